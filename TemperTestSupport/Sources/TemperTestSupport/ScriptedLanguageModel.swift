import TemperCore

/// A `LanguageModelHandle` whose continuations come from a script, for testing search strategies,
/// rollouts and rewards without a network: a test states what the "model" says and checks what
/// the strategy does with it.
///
/// One token per Unicode scalar (its id is the scalar value), so tests read texts rather than
/// ids; id 0 is the end-of-sequence token, produced after the script's text when it fits in
/// `maxNewTokens`. Sampling settings other than `numReturnSequences`, `maxNewTokens` and
/// `stopStrings` are ignored: the script is the distribution.
///
/// Compute is charged as a batched decoder would spend it: a decode of several rows costs one
/// forward pass per step of its longest row and one generated token per token; a prefill, a
/// teacher-forced append or a `logprobs` call costs one forward pass and scores its tokens; a fork
/// costs nothing (the prefix is shared).
public final class ScriptedLanguageModel: LanguageModelHandle {
    /// Compute charged so far.
    public internal(set) var usage = ComputeUsage()
    /// `[0]`.
    public let endOfSequenceTokenIDs: [Int32] = [0]

    private let continuation: (_ context: String, _ sample: Int) -> String
    private let logprob: (Unicode.Scalar) -> Float
    private var samplesDrawn: [String: Int] = [:]

    /// A model that continues a context (a prompt, or a session row's whole text) with
    /// `continuation(context, sample)`, where `sample` counts the samples drawn for that context
    /// text so far, across calls and sessions (0, 1, 2, …). Every token's log-probability is
    /// `logprob(token)`, in `generate`, sessions and `logprobs` alike.
    public init(logprob: @escaping (Unicode.Scalar) -> Float = { _ in -1 },
                continuation: @escaping (_ context: String, _ sample: Int) -> String) {
        self.continuation = continuation
        self.logprob = logprob
    }

    /// The Unicode scalar values of `text`.
    public func tokenize(_ text: String) throws -> [Int32] {
        text.unicodeScalars.map { Int32(bitPattern: $0.value) }
    }

    /// The text of `ids`; an error naming the first id that is not a Unicode scalar.
    public func detokenize(_ ids: [Int32]) throws -> String {
        var scalars = String.UnicodeScalarView()
        for id in ids {
            guard id >= 0, let scalar = Unicode.Scalar(UInt32(id)) else {
                throw ModelInputError("ScriptedLanguageModel: token id \(id) is not a Unicode scalar value")
            }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// `"<role>: <content>\n"` per message, then `"assistant: "`.
    public func renderChat(_ messages: [ChatMessage]) throws -> String {
        messages.map { "\($0.role): \($0.content)\n" }.joined() + "assistant: "
    }

    /// `options.numReturnSequences` scripted continuations of each prompt, decoded as one batch.
    public func generate(prompts: [[Int32]], options: GenerationOptions) throws -> [[GeneratedSequence]] {
        try options.validate()
        let texts = try prompts.map(detokenize)
        // Each prompt is prefilled once for all its samples.
        usage.forwardPasses += prompts.isEmpty ? 0 : 1
        usage.tokensScored += prompts.map(\.count).reduce(0, +)
        let flat = decodeBatch(texts.flatMap { Array(repeating: $0, count: options.numReturnSequences) }, options: options,
                               afterPrefill: true)
        let n = options.numReturnSequences
        return texts.indices.map { Array(flat[$0 * n..<($0 + 1) * n]) }
    }

    /// Continues each context by the script, one batch: one forward pass per step of the longest,
    /// less the first when a prefill just computed its logits (the prefill is charged by the caller).
    func decodeBatch(_ contexts: [String], options: GenerationOptions, afterPrefill: Bool) -> [GeneratedSequence] {
        let out = contexts.map { context -> GeneratedSequence in
            let sample = samplesDrawn[context, default: 0]
            samplesDrawn[context] = sample + 1
            return decode(continuation(context, sample), options: options)
        }
        let steps = out.map(\.tokenIDs.count).max() ?? 0
        usage.forwardPasses += afterPrefill ? max(steps - 1, 0) : steps
        usage.tokensGenerated += out.map(\.tokenIDs.count).reduce(0, +)
        return out
    }

    private func decode(_ script: String, options: GenerationOptions) -> GeneratedSequence {
        var produced = String.UnicodeScalarView()
        var text: String?
        var finish = FinishReason.length
        for scalar in script.unicodeScalars {
            if produced.count == options.maxNewTokens { break }
            produced.append(scalar)
            if let stop = options.stopStrings.first(where: { produced.reversed().starts(with: $0.unicodeScalars.reversed()) }) {
                text = String(String.UnicodeScalarView(produced.dropLast(stop.unicodeScalars.count)))
                finish = .stop
                break
            }
        }
        var ids = produced.map { Int32(bitPattern: $0.value) }
        var logprobs = produced.map(logprob)
        if text == nil, produced.count < options.maxNewTokens {
            ids.append(0)
            logprobs.append(logprob("\u{0}"))
            finish = .eos
        }
        return GeneratedSequence(tokenIDs: ids, text: text ?? String(produced), tokenLogprobs: logprobs, finishReason: finish)
    }

    /// `logprob(token)` for each token of each continuation; one forward pass for the batch.
    public func logprobs(_ pairs: [LogprobRequest]) throws -> [[Float]] {
        usage.forwardPasses += pairs.isEmpty ? 0 : 1
        usage.tokensScored += pairs.map { $0.prompt.count + $0.continuation.count }.reduce(0, +)
        return try pairs.map { try detokenize($0.continuation).unicodeScalars.map(logprob) }
    }

    /// A session whose rows are texts: fork copies the text, append extends it, decode asks the
    /// script to continue each row's whole text.
    public func startSession(prompts: [[Int32]]) throws -> any DecodingSession {
        let session = ScriptedDecodingSession(model: self, prompts: try prompts.map(detokenize))
        usage.forwardPasses += prompts.isEmpty ? 0 : 1
        usage.tokensScored += prompts.map(\.count).reduce(0, +)
        return session
    }

    /// Charges a teacher-forced pass over `tokens` tokens.
    func chargeAppend(_ tokens: Int) {
        usage.forwardPasses += 1
        usage.tokensScored += tokens
    }
}

/// `ScriptedLanguageModel`'s decoding session: each row is the text of its context.
final class ScriptedDecodingSession: DecodingSession {
    private unowned let model: ScriptedLanguageModel
    private var texts: [Int: String] = [:]
    private var next = 0

    init(model: ScriptedLanguageModel, prompts: [String]) {
        self.model = model
        for p in prompts { texts[next] = p; next += 1 }
    }

    var rows: [Int] { texts.keys.sorted() }

    private func text(_ row: Int) throws -> String {
        guard let t = texts[row] else { throw Self.unknownRow(row, live: rows) }
        return t
    }

    func tokens(of row: Int) throws -> [Int32] { try model.tokenize(try text(row)) }

    func fork(_ rows: [Int], copies: Int) throws -> [[Int]] {
        guard copies >= 1 else { throw ModelInputError("decoding session: fork needs copies ≥ 1, got \(copies)") }
        let parents = try rows.map(text)
        return parents.map { t in
            (0..<copies).map { _ in texts[next] = t; next += 1; return next - 1 }
        }
    }

    func append(_ tokens: [[Int32]], to rows: [Int]) throws {
        guard tokens.count == rows.count else {
            throw ModelInputError("decoding session: \(tokens.count) token lists for \(rows.count) rows")
        }
        let extended = try zip(rows, tokens).map { (try text($0.0)) + (try model.detokenize($0.1)) }
        for (r, t) in zip(rows, extended) { texts[r] = t }
        model.chargeAppend(tokens.map(\.count).reduce(0, +))
    }

    func decode(_ rows: [Int], options: GenerationOptions) throws -> [GeneratedSequence] {
        try options.validate()
        guard options.numReturnSequences == 1 else {
            throw ModelInputError("decoding session: decode takes num_return_sequences = 1, got \(options.numReturnSequences); fork the rows instead")
        }
        let contexts = try rows.map(text)
        // A session row's last token is fed with the next call, so every step costs a pass.
        let out = model.decodeBatch(contexts, options: options, afterPrefill: false)
        for (i, r) in rows.enumerated() { texts[r] = contexts[i] + (try model.detokenize(out[i].tokenIDs)) }
        return out
    }

    func release(_ rows: [Int]) {
        for r in rows { texts[r] = nil }
    }
}
