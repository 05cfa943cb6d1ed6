import Foundation

/// `LanguageModelHandle` over a loaded model (GGUF file or Hugging Face folder, with an optional
/// PEFT adapter installed): generation is the batched `Generator` (all samples of all prompts in
/// one decode), `logprobs` runs padded batches, and sessions are `SharedPrefixSession`s over a
/// paged KV cache whose rows share prefixes.
public final class PretrainedModelHandle: LanguageModelHandle {
    /// The model and tokenizer.
    public let pretrained: PretrainedModel
    /// The adapter installed on the model, if any.
    public let adapter: InstalledAdapter?
    /// Most (prompt, continuation) pairs scored in one forward pass.
    public var logprobBatchSize = 8
    /// Compute used so far, sessions included.
    public private(set) var usage = ComputeUsage()

    /// A handle over `pretrained` (with `adapter` already installed on it, if given).
    public init(_ pretrained: PretrainedModel, adapter: InstalledAdapter? = nil) {
        self.pretrained = pretrained
        self.adapter = adapter
    }

    /// Loads the model at `model` and, when given, installs the PEFT adapter folder `adapter` on it
    /// (its method's plugin must be in `registry`).
    public static func load(model: URL, adapter: URL? = nil, registry: ComponentRegistry = .shared) throws -> PretrainedModelHandle {
        let pm = try PretrainedModel.load(from: model)
        let installed = try adapter.map { try InstalledAdapter.install(from: $0, into: pm.model, registry: registry) }
        return PretrainedModelHandle(pm, adapter: installed)
    }

    /// Text → ids; control tokens written in the text (a rendered chat's `<|im_start|>`) are parsed.
    public func tokenize(_ text: String) throws -> [Int32] { pretrained.tokenizer.encode(text) }

    /// Ids → text; an error naming the first id outside the vocabulary.
    public func detokenize(_ ids: [Int32]) throws -> String {
        try checkVocabulary(ids, "detokenize")
        return pretrained.tokenizer.decode(ids)
    }

    /// The model's end-of-turn / end-of-text ids.
    public var endOfSequenceTokenIDs: [Int32] { pretrained.stopTokenIds.sorted() }

    /// The model's chat template applied to `messages`, with the assistant's turn opened.
    public func renderChat(_ messages: [ChatMessage]) throws -> String {
        try pretrained.tokenizer.applyChatTemplate(messages, addGenerationPrompt: true)
    }

    /// One batched decode of `numReturnSequences` samples per prompt, stopping at the model's
    /// end-of-turn tokens too.
    public func generate(prompts: [[Int32]], options: GenerationOptions) throws -> [[GeneratedSequence]] {
        var o = options
        o.stopTokenIds.formUnion(pretrained.stopTokenIds)
        let out = try withNoGrad { try pretrained.generator.generate(prompts: prompts, options: o) }
        let flat = out.flatMap { $0 }
        // Each prompt is prefilled once for all its samples.
        usage.tokensScored += prompts.map(\.count).reduce(0, +)
        usage.tokensGenerated += flat.map(\.tokenIDs.count).reduce(0, +)
        // The prefill yields the first token; each further step is one batched pass.
        usage.forwardPasses += flat.isEmpty ? 0 : max(flat.map(\.tokenIDs.count).max() ?? 0, 1)
        return out
    }

    /// Scores the pairs in right-padded batches of `logprobBatchSize`: one trunk pass per batch,
    /// and the LM head only at the positions that predict a continuation token.
    public func logprobs(_ pairs: [LogprobRequest]) throws -> [[Float]] {
        for (i, p) in pairs.enumerated() {
            guard !p.prompt.isEmpty else { throw ModelInputError("logprobs: pair \(i) has an empty prompt: at least one token must condition the first") }
            try checkVocabulary(p.prompt + p.continuation, "logprobs: pair \(i)")
        }
        var out = [[Float]](repeating: [], count: pairs.count)
        let model = pretrained.model
        let order = pairs.indices.sorted { pairs[$0].prompt.count + pairs[$0].continuation.count < pairs[$1].prompt.count + pairs[$1].continuation.count }
        for start in stride(from: 0, to: order.count, by: max(logprobBatchSize, 1)) {
            let batch = Array(order[start..<min(order.count, start + max(logprobBatchSize, 1))])
            let rows = batch.map { pairs[$0].prompt + pairs[$0].continuation }
            let width = rows.map(\.count).max() ?? 0
            guard width > 0 else { continue }
            let ids = rows.flatMap { $0 + [Int32](repeating: 0, count: width - $0.count) }
            let keep = rows.flatMap { [Int32](repeating: 1, count: $0.count) + [Int32](repeating: 0, count: width - $0.count) }
            let values: [Float] = try withNoGrad {
                let hidden = try model.hiddenStates(Tensor(shape: [batch.count, width], int32: ids),
                                                    attentionMask: Tensor(shape: [batch.count, width], int32: keep))
                // Position p predicts token p + 1: the continuation's tokens are predicted from
                // positions prompt − 1 ..< total − 1.
                let picked = batch.enumerated().compactMap { row, k -> Tensor? in
                    let n = pairs[k].continuation.count
                    guard n > 0 else { return nil }
                    return hidden.narrow(0, start: row, length: 1).narrow(1, start: pairs[k].prompt.count - 1, length: n)
                        .reshape([n, model.config.hiddenSize])
                }
                guard !picked.isEmpty else { return [] }
                return model.lmHead(Tensor.concat(picked, axis: 0)).scalars
            }
            let vocab = model.config.vocabSize
            var offset = 0
            for k in batch {
                out[k] = pairs[k].continuation.map { token in
                    defer { offset += 1 }
                    return Self.logSoftmax(values, row: offset, vocab: vocab, at: Int(token))
                }
            }
            usage.forwardPasses += 1
            usage.tokensScored += rows.map(\.count).reduce(0, +)
        }
        return out
    }

    /// A session over a paged KV cache (see `SharedPrefixSession`).
    public func startSession(prompts: [[Int32]]) throws -> any DecodingSession {
        let session = try SharedPrefixSession(model: pretrained.model, tokenizer: pretrained.tokenizer, prompts: prompts)
        let wrapped = PretrainedDecodingSession(session, handle: self)
        wrapped.chargeSince(ComputeUsage())
        return wrapped
    }

    /// Adds `delta` to `usage` (sessions report their work here).
    func charge(_ delta: ComputeUsage) { usage = usage + delta }

    private func checkVocabulary(_ ids: [Int32], _ what: String) throws {
        let vocab = Int32(pretrained.model.config.vocabSize)
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocab }) {
            throw ModelInputError("\(what): token id \(bad) is outside the vocabulary 0..<\(vocab)")
        }
    }

    /// `log softmax(values[row])[token]`, computed in double precision.
    private static func logSoftmax(_ values: [Float], row: Int, vocab: Int, at token: Int) -> Float {
        let base = row * vocab
        var m = -Float.infinity
        for i in 0..<vocab { m = max(m, values[base + i]) }
        var sum = 0.0
        for i in 0..<vocab { sum += Foundation.exp(Double(values[base + i] - m)) }
        return Float(Double(values[base + token] - m) - Foundation.log(sum))
    }
}

/// `DecodingSession` over a `SharedPrefixSession`: adds the model's end-of-turn tokens to every
/// decode's stop tokens and charges the session's work to its handle.
final class PretrainedDecodingSession: DecodingSession {
    let session: SharedPrefixSession
    let handle: PretrainedModelHandle

    init(_ session: SharedPrefixSession, handle: PretrainedModelHandle) {
        self.session = session
        self.handle = handle
    }

    private var counters: ComputeUsage {
        ComputeUsage(tokensGenerated: session.tokensGenerated, tokensScored: session.tokensScored, forwardPasses: session.forwardPasses)
    }

    /// Charges the handle for what the session did since `before`.
    func chargeSince(_ before: ComputeUsage) { handle.charge(counters - before) }

    private func charged<T>(_ body: () throws -> T) rethrows -> T {
        let before = counters
        defer { chargeSince(before) }
        return try body()
    }

    var rows: [Int] { session.rows }
    func tokens(of row: Int) throws -> [Int32] { try session.tokens(of: row) }
    func fork(_ rows: [Int], copies: Int) throws -> [[Int]] { try session.fork(rows, copies: copies) }
    func append(_ tokens: [[Int32]], to rows: [Int]) throws { try charged { try session.append(tokens, to: rows) } }
    func release(_ rows: [Int]) { session.release(rows) }

    func decode(_ rows: [Int], options: GenerationOptions) throws -> [GeneratedSequence] {
        var o = options
        o.stopTokenIds.formUnion(handle.pretrained.stopTokenIds)
        return try charged { try session.decode(rows, options: o) }
    }
}
