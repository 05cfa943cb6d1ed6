import Foundation

/// Samples completions from the policy being trained: the one place the on-policy loop calls
/// TemperModels' batched `Generator` (KV cache, finished rows leave the batch).
///
/// It runs on the model itself — adapters installed and unmerged, no copy — inside `withNoGrad`
/// and `withEvalMode`, so LoRA dropout is off while sampling, as TRL generates with the model in
/// eval mode. Each call's rows draw from their own Philox streams keyed by `seed` and the row, so
/// a round's samples are a function of the weights, the prompts and the seed alone.
public struct RolloutSampler: CompletionSampling {
    /// One sampled completion.
    public struct Sample: Equatable {
        /// New token ids, the stop token included when one ended it (it is trained on, as in TRL).
        public var ids: [Int32]
        /// The decoded completion without the stop token: what rewards read.
        public var text: String
        /// Whether it reached `max_completion_length` without stopping.
        public var truncated: Bool

        /// A completion of `ids` reading `text`.
        public init(ids: [Int32], text: String, truncated: Bool) {
            self.ids = ids
            self.text = text
            self.truncated = truncated
        }
    }

    let model: LlamaModel
    let tokenizer: Tokenizer
    let settings: RolloutSettings
    /// Tokens that end a completion: the model's end-of-sequence ids and the tokenizer's.
    let stopTokens: Set<Int32>

    /// A sampler over `model` with `settings`' temperature, truncation and length (also for
    /// evaluating a policy the way it is trained: sampled pass@1).
    public init(model: LlamaModel, tokenizer: Tokenizer, settings: RolloutSettings) {
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings
        var stops = Set(model.config.eosTokenIds.map { Int32($0) })
        if let eos = tokenizer.eosTokenID { stops.insert(eos) }
        stopTokens = stops
    }

    /// `copies` completions of each prompt, prompt-major (all of prompt 0's, then prompt 1's ...);
    /// `greedy` samples at temperature 0 (ReMax's baseline).
    public func sample(prompts: [[Int32]], copies: Int, seed: UInt64, greedy: Bool = false) throws -> [Sample] {
        let s = settings
        // One prompt's copies are rows i × copies + j of one batch: prefilled once, and row r draws
        // from the stream keyed by (seed, r), whatever else is in the batch.
        let options = GenerationOptions(maxNewTokens: s.maxCompletionLength, temperature: greedy ? 0 : s.temperature,
                                        topK: s.topK, topP: s.topP, minP: s.minP, repetitionPenalty: s.repetitionPenalty,
                                        numReturnSequences: copies, stopTokenIds: stopTokens, seed: seed)
        let generator = Generator(model: model, tokenizer: tokenizer)
        let results = try withNoGrad { try withEvalMode { try generator.generate(prompts: prompts, options: options) } }
        return results.joined().map { Sample(ids: $0.tokenIDs, text: $0.text, truncated: $0.finishReason == .length) }
    }
}

/// Where the on-policy loop's completions come from: the policy's `RolloutSampler`, or a scripted
/// source that lets a test state exactly what was "sampled" for each prompt.
public protocol CompletionSampling {
    /// `copies` completions of each prompt, prompt-major; `greedy` decodes at temperature 0.
    func sample(prompts: [[Int32]], copies: Int, seed: UInt64, greedy: Bool) throws -> [RolloutSampler.Sample]
}
