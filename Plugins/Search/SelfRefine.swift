import TemperCore

/// self-refine (Madaan et al. 2023, arXiv 2303.17651): y₀ ~ M(x); then for t = 0 ..< t_max the
/// model criticises its answer, f_t = M(x, y_t), and revises it, y_{t+1} = M(x, y_t, f_t), stopping
/// early once the verifier accepts y_t (score ≥ `pass_score`).
///
/// Prompts are continued as text: the feedback request is `x + y_t + feedback_prompt`, the revision
/// request that plus `f_t + refine_prompt`. Without a verifier all `max_rounds` rounds run. The
/// answer is the last revision; the earlier ones follow, newest first. Sequential: the budget's
/// sample count is not used, and the token budget is split over the 1 + 2·t_max generations.
///
/// The prompt is prefilled once, in a decoding session: each round forks it and appends only its
/// new text (the answer and the feedback request, then the feedback and the revision request).
/// A finished generation's row ends in its stop token, which the next request must not contain,
/// so generations decode in forks and their text is appended where the next request goes on.
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
    /// Its answer depends on the verifier (when one is given).
    public var selectsWithVerifier: Bool { true }

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
        var results: [[ScoredCandidate]] = []
        for (i, prompt) in request.prompts.enumerated() {
            let session = try request.model.startSession(prompts: [try request.model.tokenize(prompt)])
            defer { session.release(session.rows) }
            let root = session.rows[0]
            func decode(_ row: Int) throws -> GeneratedSequence {
                var call = options
                call.seed = options.seed &+ calls
                calls += 1
                return try session.decode([row], options: call)[0]
            }
            /// A fork of `row` with `text` appended.
            func fork(_ row: Int, appending text: String) throws -> Int {
                let child = try session.fork([row], copies: 1)[0][0]
                if !text.isEmpty { try session.append([try request.model.tokenize(text)], to: [child]) }
                return child
            }
            let first = try fork(root, appending: "")
            var versions = [try decode(first)]
            session.release([first])
            var scores: [Float?] = []
            for _ in 0..<maxRounds {
                if request.verifier != nil {
                    let score = try scorer.score([versions.last!], prompt: i, of: request)[0]
                    scores.append(score)
                    if let score, score >= passScore { break }
                }
                // x + y_t + feedback request, scored once; the feedback decodes in a fork of it, and
                // the revision continues it with the feedback and the revision request.
                let asked = try fork(root, appending: versions.last!.text + feedbackPrompt)
                let critic = try fork(asked, appending: "")
                let feedback = try decode(critic)
                session.release([critic])
                try session.append([try request.model.tokenize(feedback.text + refinePrompt)], to: [asked])
                versions.append(try decode(asked))
                session.release([asked])
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
