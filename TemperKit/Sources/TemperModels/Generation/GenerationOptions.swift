/// How to continue a prompt, with the field names and semantics of Hugging Face's
/// `GenerationConfig` (`max_new_tokens`, `min_new_tokens`, `temperature`, `top_k`, `top_p`,
/// `min_p`, `repetition_penalty`, `num_return_sequences`, `stop_strings`, `eos_token_id`,
/// `suppress_tokens`). One type serves the generator, decoding sessions, search strategies and
/// RL rollouts, so a setting means the same thing everywhere.
public struct GenerationOptions: Sendable, Equatable {
    /// Most tokens to generate per sequence (`max_new_tokens`), the stop token included.
    public var maxNewTokens: Int
    /// Fewest tokens before a stop token or stop string may end a sequence (`min_new_tokens`):
    /// until then stop tokens get probability 0 and stop strings are not looked for.
    public var minNewTokens: Int
    /// Softmax temperature; 0 means greedy (argmax).
    public var temperature: Float
    /// Keep only the `topK` most likely tokens (0 = off).
    public var topK: Int
    /// Keep the smallest set of tokens whose probability reaches `topP` (1 = off).
    public var topP: Float
    /// Drop tokens less likely than `minP ×` the most likely one (0 = off).
    public var minP: Float
    /// CTRL-style penalty on tokens already in the prompt or output (1 = off).
    public var repetitionPenalty: Float
    /// Sequences to sample per prompt (`num_return_sequences`).
    public var numReturnSequences: Int
    /// Texts that end a sequence when they appear in its output; the text is cut before them.
    public var stopStrings: [String]
    /// Token ids that end a sequence (`eos_token_id`). A model handle adds its model's end-of-turn
    /// tokens to these; the generator uses exactly these.
    public var stopTokenIds: Set<Int32>
    /// Token ids that are never generated (`suppress_tokens`).
    public var suppressTokenIds: Set<Int32>
    /// Seed of the per-sequence random streams: the same seed gives the same samples.
    public var seed: UInt64

    /// Options with Hugging Face's defaults for what is not given (`temperature` 1, nothing
    /// truncated or penalised), and 256 new tokens at most.
    public init(maxNewTokens: Int = 256, minNewTokens: Int = 0, temperature: Float = 1, topK: Int = 0, topP: Float = 1,
                minP: Float = 0, repetitionPenalty: Float = 1, numReturnSequences: Int = 1, stopStrings: [String] = [],
                stopTokenIds: Set<Int32> = [], suppressTokenIds: Set<Int32> = [], seed: UInt64 = 0) {
        self.maxNewTokens = maxNewTokens
        self.minNewTokens = minNewTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.numReturnSequences = numReturnSequences
        self.stopStrings = stopStrings
        self.stopTokenIds = stopTokenIds
        self.suppressTokenIds = suppressTokenIds
        self.seed = seed
    }

    /// Throws a message naming the first out-of-range setting by its Hugging Face name.
    public func validate() throws {
        func bad(_ m: String) -> ModelInputError { ModelInputError(m) }
        guard maxNewTokens >= 0 else { throw bad("max_new_tokens must be ≥ 0, got \(maxNewTokens)") }
        guard minNewTokens >= 0, minNewTokens <= maxNewTokens else {
            throw bad("min_new_tokens must be in [0, max_new_tokens = \(maxNewTokens)], got \(minNewTokens)")
        }
        guard temperature >= 0, temperature.isFinite else { throw bad("temperature must be ≥ 0, got \(temperature)") }
        guard topK >= 0 else { throw bad("top_k must be ≥ 0, got \(topK)") }
        guard topP > 0, topP <= 1 else { throw bad("top_p must be in (0, 1], got \(topP)") }
        guard minP >= 0, minP <= 1 else { throw bad("min_p must be in [0, 1], got \(minP)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else { throw bad("repetition_penalty must be > 0, got \(repetitionPenalty)") }
        guard numReturnSequences >= 1 else { throw bad("num_return_sequences must be ≥ 1, got \(numReturnSequences)") }
        guard !stopStrings.contains("") else { throw bad("stop_strings must not contain an empty string") }
    }

    /// Checks that every stop and suppressed id is a token of a `vocabSize` vocabulary.
    public func validate(vocabSize: Int) throws {
        try validate()
        for (name, ids) in [("eos_token_id", stopTokenIds), ("suppress_tokens", suppressTokenIds)] {
            if let bad = ids.sorted().first(where: { $0 < 0 || Int($0) >= vocabSize }) {
                throw ModelInputError("\(name): token id \(bad) is outside the vocabulary 0..<\(vocabSize)")
            }
        }
    }
}
