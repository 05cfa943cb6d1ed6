import Foundation

/// How group-relative advantages are scaled (TRL's `scale_rewards`).
public enum RewardScaling: String, CaseIterable, Sendable {
    /// Divide by the standard deviation of the row's group (GRPO, DeepSeekMath 2402.03300).
    case group
    /// Divide by the standard deviation of the whole batch (Hu et al., REINFORCE++ 2501.03262 style).
    case batch
    /// Do not divide (Dr. GRPO 2503.20783: the std term biases towards too easy / too hard prompts).
    case none
}

/// How a whitening scales the centered values: the conventions of the implementations each
/// objective follows.
public enum WhiteningScale: Equatable, Sendable {
    /// ÷ (sample std + ε): TRL's RLOO `normalize_advantages` (ε = 1e-4).
    case sampleStdPlus(Double)
    /// × rsqrt(sample variance + ε): TRL's `masked_whiten`, PPO's advantages (ε = 1e-8).
    case sampleVariancePlus(Double)
    /// × rsqrt(max(population variance, floor)): OpenRLHF's REINFORCE++ normalization (1e-8).
    case populationVarianceAtLeast(Double)
}

/// Per-row advantages from sequence rewards and groups (the rows sampled from one prompt), shared
/// by the critic-free objectives (GRPO, RLOO, REINFORCE++).
///
/// Groups are given by `groupIndex` (row → prompt), not by a fixed group size: a batch whose
/// size is not a multiple of `num_generations`, or whose groups were thinned by dynamic sampling,
/// is handled the same way. A NaN reward marks a row no reward function scored: as in TRL 1.16 it
/// is left out of every mean and standard deviation, and its own advantage is 0 (it carries no
/// learning signal, and a 0 in its place would bias its group's baseline).
public enum Advantages {
    /// Added to the standard deviation before dividing, as TRL does (`std + 1e-4`), so a group whose
    /// rewards are all equal gets advantage 0, not 0/0.
    public static let epsilon: Float = 1e-4

    /// Mean of each row's group, one value per row.
    public static func groupMeans(_ rewards: [Float], groupIndex: [Int]) -> [Float] {
        let stats = groupStatistics(rewards, groupIndex: groupIndex)
        return groupIndex.map { stats[$0]!.mean }
    }

    /// Sample standard deviation (n − 1, like `torch.std`) of each row's group, one value per row;
    /// 0 for a group of one row (nothing to compare it with).
    public static func groupStds(_ rewards: [Float], groupIndex: [Int]) -> [Float] {
        let stats = groupStatistics(rewards, groupIndex: groupIndex)
        return groupIndex.map { stats[$0]!.std }
    }

    /// GRPO's advantage Â_i = (r_i − mean(r_group)) / (std + 1e-4), with the std of the group, of
    /// the batch, or none (TRL's `scale_rewards`).
    public static func groupRelative(_ rewards: [Float], groupIndex: [Int], scaling: RewardScaling) -> [Float] {
        precondition(rewards.count == groupIndex.count, "Advantages: \(rewards.count) rewards for \(groupIndex.count) group indices")
        let means = groupMeans(rewards, groupIndex: groupIndex)
        let centered = zip(rewards, means).map { $0 - $1 }
        let scaled: [Float]
        switch scaling {
        case .none: scaled = centered
        case .group: scaled = zip(centered, groupStds(rewards, groupIndex: groupIndex)).map { $0 / ($1 + epsilon) }
        case .batch:
            let std = sampleStd(rewards)
            scaled = centered.map { $0 / (std + epsilon) }
        }
        return scaled.map { $0.isNaN ? 0 : $0 }
    }

    /// RLOO's leave-one-out advantage Â_i = r_i − (1/(G−1)) Σ_{j≠i} r_j (Ahmadian et al. 2402.14740),
    /// 0 for a group of one row.
    public static func leaveOneOut(_ rewards: [Float], groupIndex: [Int]) -> [Float] {
        precondition(rewards.count == groupIndex.count, "Advantages: \(rewards.count) rewards for \(groupIndex.count) group indices")
        let stats = groupStatistics(rewards, groupIndex: groupIndex)
        return zip(rewards, groupIndex).map { r, g in
            let s = stats[g]!
            guard !r.isNaN, s.count > 1 else { return 0 }
            return r - (s.sum - r) / Float(s.count - 1)
        }
    }

    /// Advantages whitened over the whole batch, (a − mean(a)) / (std(a) + 1e-4), as TRL's RLOO
    /// `normalize_advantages`. NaN entries are left out of the statistics and come back as 0.
    public static func whitened(_ values: [Float]) -> [Float] {
        whitened(values, weights: values.map { $0.isNaN ? 0 : 1 }, scale: .sampleStdPlus(1e-4))
    }

    /// The one whitening of the online objectives: (x − mean) / scale over the entries whose
    /// weight is non-zero, mean and variance in Double; entries with weight 0 come back as 0, and
    /// so does everything when nothing is selected. `keepMean` adds the mean back (TRL's
    /// `masked_whiten(shift_mean=False)`, used on PPO's rewards). The variance of fewer than two
    /// values is 0.
    public static func whitened(_ values: [Float], weights: [Float], scale: WhiteningScale, keepMean: Bool = false) -> [Float] {
        precondition(values.count == weights.count, "Advantages: \(values.count) values for \(weights.count) weights")
        let selected = values.indices.filter { weights[$0] != 0 }.map { Double(values[$0]) }
        guard !selected.isEmpty else { return values.map { _ in 0 } }
        let n = Double(selected.count)
        let mean = selected.reduce(0, +) / n
        let squares = selected.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let sampleVariance = selected.count > 1 ? squares / (n - 1) : 0
        let rstd: Double
        switch scale {
        case .sampleStdPlus(let eps): rstd = 1 / (sampleVariance.squareRoot() + eps)
        case .sampleVariancePlus(let eps): rstd = 1 / (sampleVariance + eps).squareRoot()
        case .populationVarianceAtLeast(let floor): rstd = 1 / max(squares / n, floor).squareRoot()
        }
        return values.indices.map { i in weights[i] != 0 ? Float((Double(values[i]) - mean) * rstd + (keepMean ? mean : 0)) : 0 }
    }

    /// Share of groups whose (scored) rewards all lie within 1e-6 of each other (TRL's
    /// `frac_reward_zero_std`, per group): groups that teach GRPO nothing.
    public static func zeroStdGroupShare(_ rewards: [Float], groupIndex: [Int]) -> Double {
        let stats = groupStatistics(rewards, groupIndex: groupIndex)
        guard !stats.isEmpty else { return 0 }
        return Double(stats.values.filter { $0.std.magnitude < 1e-6 }.count) / Double(stats.count)
    }

    /// The groups (by group index) whose rewards are all equal: what DAPO's dynamic sampling drops.
    public static func constantGroups(_ rewards: [Float], groupIndex: [Int]) -> Set<Int> {
        Set(groupStatistics(rewards, groupIndex: groupIndex).filter { $0.value.std.magnitude < 1e-6 }.map(\.key))
    }

    /// Sample standard deviation (n − 1) of the values that are not NaN; 0 for fewer than two.
    static func sampleStd(_ all: [Float]) -> Float {
        let values = all.filter { !$0.isNaN }
        guard values.count > 1 else { return 0 }
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        let ss = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
        return Float((ss / Double(values.count - 1)).squareRoot())
    }

    private struct GroupStats { var sum: Float; var count: Int; var mean: Float; var std: Float }

    /// Sum, count, mean and sample std of each group's rewards that are not NaN, accumulated in
    /// Double; a group with none has mean NaN.
    private static func groupStatistics(_ rewards: [Float], groupIndex: [Int]) -> [Int: GroupStats] {
        var members: [Int: [Float]] = [:]
        for (r, g) in zip(rewards, groupIndex) { members[g, default: []].append(r) }
        return members.mapValues { all in
            let rs = all.filter { !$0.isNaN }
            let sum = rs.reduce(0.0) { $0 + Double($1) }
            let mean = rs.isEmpty ? Double.nan : sum / Double(rs.count)
            return GroupStats(sum: Float(sum), count: rs.count, mean: Float(mean), std: sampleStd(rs))
        }
    }
}
