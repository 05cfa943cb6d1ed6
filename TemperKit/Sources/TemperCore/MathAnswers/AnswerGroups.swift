/// Completions grouped by their final answer, answers compared with the reader `math-equiv` grades
/// with: "0.5", "1/2" and "\frac{1}{2}" fall in one group.
///
/// Equivalence is not a hash (two spellings of one value share no normal form in general), so each
/// answer is compared with the first answer of every group so far: N² comparisons at most, a few
/// hundred for the N of a vote.
public struct AnswerGroups {
    /// One distinct answer: its first spelling and the candidates that gave it, in sampling order.
    public struct Group {
        /// The answer as the first candidate that gave it wrote it.
        public var answer: MathAnswer
        /// Indices of the candidates with this answer.
        public var members: [Int]
    }

    /// Groups in order of first appearance.
    public private(set) var groups: [Group] = []
    /// Candidates with no final answer: they take part in no vote.
    public private(set) var unanswered: [Int] = []

    /// Groups `completions` by the answer `reader` finds in each.
    public init(_ completions: [String], reader: MathAnswerReader) {
        for (k, text) in completions.enumerated() {
            guard let answer = reader.answer(in: text) else { unanswered.append(k); continue }
            if let g = groups.firstIndex(where: { reader.equivalent($0.answer, answer) }) {
                groups[g].members.append(k)
            } else {
                groups.append(Group(answer: answer, members: [k]))
            }
        }
    }

    /// The groups ordered by `weight`, largest first; ties keep the order of first appearance.
    public func ranked(by weight: (Group) -> Float) -> [(group: Group, weight: Float)] {
        groups.enumerated().map { (offset: $0.offset, group: $0.element, weight: weight($0.element)) }
            .sorted { $0.weight != $1.weight ? $0.weight > $1.weight : $0.offset < $1.offset }
            .map { ($0.group, $0.weight) }
    }
}
