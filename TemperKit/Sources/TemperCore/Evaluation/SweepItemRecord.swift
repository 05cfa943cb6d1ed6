/// One search of one item in a sweep, graded: a line of `temper eval`'s per-item JSONL.
public struct SweepItemRecord: Sendable {
    /// The strategy's spec.
    public var search: String
    /// Samples per prompt it ran with.
    public var budget: Int
    /// The seed of this run.
    public var seed: UInt64
    /// 0-based row of the data file.
    public var item: Int
    /// The strategy's answer (its first candidate).
    public var answer: String
    /// The reward's score of the answer; nil when it does not apply or failed.
    public var answerScore: Float?
    /// Whether that score reaches the pass threshold.
    public var correct: Bool
    /// Candidates the strategy returned (n in pass@k).
    public var candidates: Int
    /// Of them, those the reward accepts (c in pass@k).
    public var correctCandidates: Int
    /// Unbiased pass@1 = c / n.
    public var passAt1: Double
    /// Unbiased pass@k with k = n.
    public var passAtK: Double
    /// Whether the majority answer among the candidates is accepted.
    public var majorityCorrect: Bool
    /// Compute the search spent on this item.
    public var usage: ComputeUsage
    /// Wall-clock seconds of the search and its grading.
    public var seconds: Double
    /// Candidates the strategy's or the grader's scoring failed on, with the reason.
    public var scoringFailures: [String]

    /// The record as one JSON object (snake_case keys, one line).
    public var json: String {
        let fields: [(String, ColumnValue)] = [
            ("search", .string(search)), ("budget", .number(Double(budget))), ("seed", .number(Double(seed))),
            ("item", .number(Double(item))), ("answer", .string(answer)),
            // Through the Float's shortest text, so 0.9 prints as 0.9 rather than 0.8999999761581421.
            ("answer_score", answerScore.map { .number(Double("\($0)") ?? Double($0)) } ?? .null), ("correct", .bool(correct)),
            ("candidates", .number(Double(candidates))), ("correct_candidates", .number(Double(correctCandidates))),
            ("pass_at_1", .number(passAt1)), ("pass_at_k", .number(passAtK)), ("maj_at_k", .bool(majorityCorrect)),
            ("tokens_generated", .number(Double(usage.tokensGenerated))), ("tokens_scored", .number(Double(usage.tokensScored))),
            ("forward_passes", .number(Double(usage.forwardPasses))), ("seconds", .number((seconds * 1000).rounded() / 1000)),
            ("scoring_failures", .array(scoringFailures.map(ColumnValue.string))),
        ]
        return "{" + fields.map { ColumnValue.string($0.0).json + ":" + $0.1.json }.joined(separator: ",") + "}"
    }
}
