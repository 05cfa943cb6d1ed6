import TemperCore

/// A partial solution in a step tree: a session row and the steps that led to it.
struct StepNode {
    /// The session row holding its context.
    var row: Int
    /// The steps so far, without separators.
    var steps: [String] = []
    /// Every token produced after the prompt (separators and the stop token included).
    var tokenIDs: [Int32] = []
    /// Their log-probabilities.
    var logprobs: [Float] = []
    /// Sum of the last step's token log-probabilities: its log-probability under the policy.
    var stepLogprob: Float = 0
    /// Set once the solution has ended (stop token, stop string, length cap or step cap).
    var finish: FinishReason?
    /// The scores of its first steps, as far as they were scored: a child inherits its parent's,
    /// so only its new step is sent to the scorer.
    var stepScores: [Float] = []
    /// The aggregated step score; nil until scored, or when scoring it failed.
    var score: Float?

    /// Whether the solution has ended.
    var isComplete: Bool { finish != nil }

    /// The candidate as a search result reports it: its steps joined by `separator`.
    func sequence(separator: String) -> GeneratedSequence {
        GeneratedSequence(tokenIDs: tokenIDs, text: steps.joined(separator: separator), tokenLogprobs: logprobs,
                          finishReason: finish ?? .length)
    }

    /// `nodes` best first by score (unscored and failed last), ties in their given order.
    static func ranked(_ nodes: [StepNode]) -> [StepNode] {
        nodes.enumerated().sorted { a, b in
            let (x, y) = (a.element.score ?? -.infinity, b.element.score ?? -.infinity)
            return x != y ? x > y : a.offset < b.offset
        }.map(\.element)
    }
}

/// How a path's step scores become the one number candidates are ranked by (search-and-learn's
/// `agg_strategy`): the last step's score, the minimum, or the product.
enum StepAggregation: String, CaseIterable {
    case last, min, prod

    /// The aggregate of `scores` (non-empty).
    func apply(_ scores: [Float]) -> Float {
        switch self {
        case .last: return scores.last ?? 0
        case .min: return scores.min() ?? 0
        case .prod: return scores.reduce(1, *)
        }
    }
}
