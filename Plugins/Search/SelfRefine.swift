import TemperCore

/// self-refine (Madaan et al. 2023, arXiv 2303.17651): y₀ ~ M(x); then for t = 0 ..< t_max the
/// model criticises its answer, f_t = M(x, y_t), and revises it, y_{t+1} = M(x, y_t, f_t), stopping
/// early once the verifier accepts y_t (score ≥ `pass_score`).
///
/// Prompts are continued as text: the feedback request is `x + y_t + feedback_prompt`, the revision
/// request that plus `f_t + refine_prompt`. Without a verifier all `max_rounds` rounds run. The
/// answer is the last revision; the earlier ones follow, newest first. Sequential: the budget's
/// sample count is not used, and the token budget is split over the 1 + 2·t_max generations.
public final class SelfRefine: SearchStrategy {
    /// Registered name.
    public static let name = "self-refine"
    /// One-line summary for `temper plugins`.
    public static let summary = "answer, then feedback → revision for up to max_rounds rounds, stopping when the verifier passes it"
    /// Rounds, the stop threshold and the two instructions.
    public static let parameters: [ParameterSpec] = [
        .int("max_rounds", default: 3, range: .closed(0, 16), doc: "most feedback → revision rounds (t_max; the paper stops by 4)"),
        .float("pass_score", default: 1, doc: "a verifier score at or above this accepts the answer and stops refining"),
        .string("feedback_prompt", default: "\nReview the answer above step by step and point out any mistake.\nFeedback:",
                doc: "text appended after the answer to ask for feedback"),
        .string("refine_prompt", default: "\nUsing the feedback, write the corrected answer.\nAnswer:",
                doc: "text appended after the feedback to ask for the revision"),
    ]

    let maxRounds: Int
    let passScore: Float
    let feedbackPrompt: String
    let refinePrompt: String

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        maxRounds = try config.int("max_rounds")
        passScore = try config.float("pass_score")
        feedbackPrompt = try config.string("feedback_prompt")
        refinePrompt = try config.string("refine_prompt")
    }

    /// Refines every prompt's answer in turn.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        _ = try SearchBudgetCheck.samples(request, strategy: Self.name)
        var options = request.generation
        options.numReturnSequences = 1
        options.maxNewTokens = try SearchBudgetCheck.tokensPerSequence(request, sequences: 1 + 2 * maxRounds, strategy: Self.name)
        let before = request.model.usage
        var scorer = CandidateScorer(strategy: Self.name)
        var calls: UInt64 = 0
        func continuation(_ text: String) throws -> GeneratedSequence {
            var call = options
            call.seed = options.seed &+ calls
            calls += 1
            return try request.model.generate(prompts: [try request.model.tokenize(text)], options: call)[0][0]
        }
        var results: [[ScoredCandidate]] = []
        for (i, prompt) in request.prompts.enumerated() {
            var versions = [try continuation(prompt)]
            var scores: [Float?] = []
            for _ in 0..<maxRounds {
                if request.verifier != nil {
                    let score = try scorer.score([versions.last!], prompt: i, of: request)[0]
                    scores.append(score)
                    if let score, score >= passScore { break }
                }
                let askFeedback = prompt + versions.last!.text + feedbackPrompt
                let feedback = try continuation(askFeedback)
                versions.append(try continuation(askFeedback + feedback.text + refinePrompt))
            }
            if request.verifier != nil, scores.count < versions.count {
                scores.append(try scorer.score([versions.last!], prompt: i, of: request)[0])
            }
            let kept = versions.indices.reversed().map { ScoredCandidate(sequence: versions[$0], score: scores.isEmpty ? nil : scores[$0]) }
            results.append(kept)
        }
        return SearchResult(candidates: results, usage: request.model.usage - before, failures: scorer.failures)
    }
}
