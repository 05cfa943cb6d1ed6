/// Why a generated sequence ended.
public enum FinishReason: String, Sendable, Codable {
    /// It produced one of the stop (end-of-sequence) token ids.
    case eos
    /// Its text reached one of the stop strings.
    case stop
    /// It reached `maxNewTokens` (DAPO-style objectives mask these).
    case length
}

/// One generated continuation.
public struct GeneratedSequence: Sendable, Equatable {
    /// Every token produced, the stop token or the tokens of a stop string included: what the
    /// model's context now holds after the prompt.
    public var tokenIDs: [Int32]
    /// The decoded text, without the stop token and cut before a stop string.
    public var text: String
    /// Log-probability of each token of `tokenIDs` under the model's softmax at the sampling
    /// temperature (1 when greedy), before top-k / top-p / min-p truncation.
    public var tokenLogprobs: [Float]
    /// Why it ended.
    public var finishReason: FinishReason

    /// A sequence from parts.
    public init(tokenIDs: [Int32], text: String, tokenLogprobs: [Float], finishReason: FinishReason) {
        self.tokenIDs = tokenIDs
        self.text = text
        self.tokenLogprobs = tokenLogprobs
        self.finishReason = finishReason
    }
}
