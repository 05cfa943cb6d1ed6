/// How to pick each new token, with the names and semantics of Hugging Face `generate`.
public struct SamplingParameters: Sendable, Equatable {
    /// Most tokens to generate per sequence (`max_new_tokens`).
    public var maxNewTokens: Int
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
    /// Token ids that end a sequence (the model's end-of-turn / end-of-text tokens, usually).
    public var stopTokenIds: Set<Int32>
    /// Texts that end a sequence when they appear in its output; the output is cut before them.
    public var stopStrings: [String]
    /// Seed of the per-sequence random streams: the same seed gives the same samples.
    public var seed: UInt64

    /// Parameters with Hugging Face's defaults for the ones not given, except `temperature`,
    /// which defaults to greedy.
    public init(maxNewTokens: Int = 128, temperature: Float = 0, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                repetitionPenalty: Float = 1, stopTokenIds: Set<Int32> = [], stopStrings: [String] = [], seed: UInt64 = 0) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.stopTokenIds = stopTokenIds
        self.stopStrings = stopStrings
        self.seed = seed
    }

    /// Throws a message naming the first out-of-range setting.
    public func validate() throws {
        func bad(_ m: String) -> ModelInputError { ModelInputError(m) }
        guard maxNewTokens >= 0 else { throw bad("max_new_tokens must be ≥ 0, got \(maxNewTokens)") }
        guard temperature >= 0, temperature.isFinite else { throw bad("temperature must be ≥ 0, got \(temperature)") }
        guard topK >= 0 else { throw bad("top_k must be ≥ 0, got \(topK)") }
        guard topP > 0, topP <= 1 else { throw bad("top_p must be in (0, 1], got \(topP)") }
        guard minP >= 0, minP <= 1 else { throw bad("min_p must be in [0, 1], got \(minP)") }
        guard repetitionPenalty > 0, repetitionPenalty.isFinite else { throw bad("repetition_penalty must be > 0, got \(repetitionPenalty)") }
        guard !stopStrings.contains("") else { throw bad("stop strings must not be empty") }
    }
}
