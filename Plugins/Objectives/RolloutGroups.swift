/// The rows of a rollout batch grouped by prompt (`RolloutBatch.groupIndex`), in order of first
/// appearance. Groups may differ in size (a batch not divisible by `num_generations`, rows
/// dropped by the host), so nothing here assumes a fixed group size.
struct RolloutGroups {
    /// Row indices of each group.
    let members: [[Int]]

    /// Groups of `groupIndex`.
    init(_ groupIndex: [Int]) {
        var order: [Int: Int] = [:]
        var members: [[Int]] = []
        for (row, g) in groupIndex.enumerated() {
            if let k = order[g] { members[k].append(row) } else { order[g] = members.count; members.append([row]) }
        }
        self.members = members
    }

    /// The mean of `values` over each row's group, per row.
    func groupMeans(_ values: [Float]) -> [Float] {
        var out = values
        for rows in members {
            let mean = rows.reduce(Float(0)) { $0 + values[$1] } / Float(rows.count)
            for r in rows { out[r] = mean }
        }
        return out
    }

    /// Each row's leave-one-out mean: the mean of the other rows of its group (Kool et al. 2019;
    /// Ahmadian et al. 2024, arXiv 2402.14740), or its own value when it is alone, so that its
    /// advantage is 0 (TRL zeroes the 0/0 of a lone completion).
    func leaveOneOutMeans(_ values: [Float]) -> [Float] {
        var out = values
        for rows in members where rows.count > 1 {
            let sum = rows.reduce(Float(0)) { $0 + values[$1] }
            for r in rows { out[r] = (sum - values[r]) / Float(rows.count - 1) }
        }
        return out
    }
}
