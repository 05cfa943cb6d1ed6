import TemperCore

/// budget-forcing (s1, Muennighoff et al. 2025, arXiv 2501.19393, §3.1): controls how long the model
/// thinks. The model thinks until it writes `end_of_thinking` (or ends); if it stopped before
/// `min_thinking_tokens`, the delimiter is dropped and `wait` appended so it keeps reasoning; at
/// `max_thinking_tokens` its thinking is cut off. Then `end_of_thinking + answer_prompt` is forced
/// and the answer generated (at most `max_answer_tokens`).
///
/// The candidate's text is the whole continuation — thinking, appended "Wait"s, the forced
/// delimiter and prompt, the answer — so rewards read its final answer; its token ids are that text
/// tokenized. It mixes sampled and forced text, so it carries no per-token log-probabilities (NaN
/// each). Thinking is measured in tokens of the thinking text (the stop delimiter not counted); the
/// compute reported is every token the model generated. Sequential: the budget's sample count is
/// not used.
///
/// The prompt is prefilled once, in a decoding session: each thinking round decodes in a fork of
/// the row (which shares its cache); a round that stopped early leaves its stop token in the fork,
/// so the fork is dropped and only the round's text and `wait` (or the delimiter and answer prompt)
/// are appended to the row — never the prompt and earlier thinking again.
public final class BudgetForcing: SearchStrategy {
    /// Registered name.
    public static let name = "budget-forcing"
    /// One-line summary for `temper plugins`.
    public static let summary = "s1 budget forcing: append 'Wait' when thinking ends before min_thinking_tokens, force the answer at max_thinking_tokens"
    /// The thinking bounds and the texts inserted.
    public static let parameters: [ParameterSpec] = [
        .int("min_thinking_tokens", default: 0, range: .atLeast(0), doc: "thinking shorter than this is extended with `wait`"),
        .int("max_thinking_tokens", default: 512, range: .atLeast(1), doc: "thinking is cut off at this many generated tokens"),
        .int("max_answer_tokens", default: 64, range: .atLeast(1), doc: "most tokens of the answer after the forced delimiter"),
        .int("max_waits", default: 8, range: .atLeast(0), doc: "most times `wait` is appended (a model that stops at once after each would loop)"),
        .string("end_of_thinking", default: "</think>", doc: "the delimiter that ends thinking (a stop string while thinking)"),
        .string("wait", default: "Wait", doc: "text appended when thinking ended too early"),
        .string("answer_prompt", default: "\nFinal Answer:", doc: "text forced after the delimiter before the answer"),
    ]

    let minThinking: Int, maxThinking: Int, maxAnswer: Int, maxWaits: Int
    let endOfThinking: String, wait: String, answerPrompt: String

    /// Reads the settings; a minimum above the maximum is an error.
    public init(config: ComponentConfig) throws {
        minThinking = try config.int("min_thinking_tokens")
        maxThinking = try config.int("max_thinking_tokens")
        maxAnswer = try config.int("max_answer_tokens")
        maxWaits = try config.int("max_waits")
        endOfThinking = try config.string("end_of_thinking")
        wait = try config.string("wait")
        answerPrompt = try config.string("answer_prompt")
        guard minThinking <= maxThinking else {
            throw SpecError("budget-forcing: min_thinking_tokens (\(minThinking)) is above max_thinking_tokens (\(maxThinking))")
        }
        guard !endOfThinking.isEmpty else { throw SpecError("budget-forcing: end_of_thinking must not be empty") }
    }

    /// Thinks, waits or is cut off, then answers, for every prompt in turn.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        _ = try SearchBudgetCheck.samples(request, strategy: Self.name)
        if let cap = request.budget.maxGeneratedTokens, cap < maxThinking + maxAnswer {
            throw SpecError("budget-forcing: max_thinking_tokens \(maxThinking) + max_answer_tokens \(maxAnswer) exceed the budget of " +
                            "\(cap) generated tokens per prompt")
        }
        let before = request.model.usage
        var scorer = CandidateScorer(strategy: Self.name)
        var results: [[ScoredCandidate]] = []
        for (i, prompt) in request.prompts.enumerated() {
            let answer = try force(prompt, request)
            let score = request.verifier == nil ? nil : try scorer.score([answer], prompt: i, of: request)[0]
            results.append([ScoredCandidate(sequence: answer, score: score)])
        }
        return SearchResult(candidates: results, usage: request.model.usage - before, failures: scorer.failures)
    }

    /// One budget-forced continuation of `prompt`.
    func force(_ prompt: String, _ request: SearchRequest) throws -> GeneratedSequence {
        let model = request.model
        let session = try model.startSession(prompts: [try model.tokenize(prompt)])
        defer { session.release(session.rows) }
        var row = session.rows[0]
        var text = ""
        var thought = 0, waits = 0
        func decode(_ row: Int, maxNewTokens: Int, stop: [String], round: Int) throws -> GeneratedSequence {
            var options = request.generation
            options.numReturnSequences = 1
            options.maxNewTokens = maxNewTokens
            options.stopStrings = stop
            options.seed = request.generation.seed &+ UInt64(round)
            let piece = try session.decode([row], options: options)[0]
            text += piece.text
            return piece
        }
        var forced = endOfThinking + answerPrompt
        while true {
            let child = try session.fork([row], copies: 1)[0][0]
            let piece = try decode(child, maxNewTokens: maxThinking - thought, stop: request.generation.stopStrings + [endOfThinking], round: waits)
            thought += try model.tokenize(piece.text).count
            // Cut off at the cap (s1's maximum): the fork holds exactly the thinking; the answer is forced below.
            if piece.finishReason == .length {
                session.release([row])
                row = child
                break
            }
            // Stopped (the delimiter, a stop string or end of sequence): the fork's context ends in
            // that stop, which s1 removes, so the row takes the text without it. Waits only below
            // the minimum (which is at most the maximum, so a round that reached the cap ends here).
            session.release([child])
            guard thought < minThinking, waits < maxWaits else {
                forced = piece.text + forced
                break
            }
            try session.append([try model.tokenize(piece.text + wait)], to: [row])
            text += wait
            waits += 1
        }
        try session.append([try model.tokenize(forced)], to: [row])
        text += endOfThinking + answerPrompt
        let answer = try decode(row, maxNewTokens: maxAnswer, stop: request.generation.stopStrings, round: waits + 1)
        let ids = try model.tokenize(text)
        return GeneratedSequence(tokenIDs: ids, text: text, tokenLogprobs: ids.map { _ in .nan }, finishReason: answer.finishReason)
    }
}
