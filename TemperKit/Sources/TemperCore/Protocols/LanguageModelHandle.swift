/// Sampling settings for one generation call (Hugging Face `GenerationConfig` names).
public struct GenerationOptions: Equatable, Sendable {
    /// Most tokens to generate per sequence.
    public var maxNewTokens: Int
    /// Softmax temperature; 0 means greedy.
    public var temperature: Float
    /// Keep only the k most likely tokens (0 = off).
    public var topK: Int
    /// Nucleus sampling mass (1 = off).
    public var topP: Float
    /// Drop tokens below `minP × p(max)` (0 = off).
    public var minP: Float
    /// Sequences to sample per prompt.
    public var numReturnSequences: Int
    /// Texts that end a sequence (besides the model's end-of-sequence tokens).
    public var stop: [String]
    /// Seed for the sampler, so a search is reproducible.
    public var seed: UInt64

    /// Options with Hugging Face-like defaults (sampling at T = 1, nothing truncated).
    public init(maxNewTokens: Int = 256, temperature: Float = 1, topK: Int = 0, topP: Float = 1, minP: Float = 0,
                numReturnSequences: Int = 1, stop: [String] = [], seed: UInt64 = 0) {
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.numReturnSequences = numReturnSequences
        self.stop = stop
        self.seed = seed
    }
}

/// Why a generated sequence ended.
public enum FinishReason: String, Sendable {
    /// An end-of-sequence token.
    case eos
    /// A stop string.
    case stop
    /// `maxNewTokens` reached (DAPO-style objectives mask these).
    case length
}

/// One generated continuation.
public struct GeneratedSequence: Equatable, Sendable {
    /// Generated token ids (prompt excluded).
    public var tokenIDs: [Int32]
    /// Their decoded text.
    public var text: String
    /// log p of each generated token under the sampling distribution's model (before temperature).
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

/// The language model as search strategies and rollout generation see it: tokenize, generate,
/// and score. Models (TemperModels) implement it; tests use small fakes.
///
/// Each call reports the work it did through `usage`, so a strategy can report compute honestly.
public protocol LanguageModelHandle: AnyObject {
    /// Text → token ids (no special tokens added).
    func tokenize(_ text: String) throws -> [Int32]
    /// Token ids → text.
    func detokenize(_ ids: [Int32]) throws -> String
    /// Ids that end a sequence.
    var endOfSequenceTokenIDs: [Int32] { get }
    /// Samples `options.numReturnSequences` continuations of each prompt; result[i] belongs to prompt i.
    func generate(prompts: [[Int32]], options: GenerationOptions) throws -> [[GeneratedSequence]]
    /// log p(continuation[t] | prompt, continuation[..<t]) for each t: one forward pass.
    func logprobs(prompt: [Int32], continuation: [Int32]) throws -> [Float]
    /// Compute used so far by this handle (generate + logprobs).
    var usage: ComputeUsage { get }
}

/// Inference compute, the x-axis of every test-time-scaling plot.
public struct ComputeUsage: Equatable, Sendable {
    /// Tokens produced by sampling.
    public var tokensGenerated: Int
    /// Tokens processed in prefill or scoring passes.
    public var tokensScored: Int
    /// Model forward calls (a decode step of a batch counts once).
    public var forwardPasses: Int

    /// Usage from counts.
    public init(tokensGenerated: Int = 0, tokensScored: Int = 0, forwardPasses: Int = 0) {
        self.tokensGenerated = tokensGenerated
        self.tokensScored = tokensScored
        self.forwardPasses = forwardPasses
    }

    /// Elementwise sum.
    public static func + (a: ComputeUsage, b: ComputeUsage) -> ComputeUsage {
        ComputeUsage(tokensGenerated: a.tokensGenerated + b.tokensGenerated, tokensScored: a.tokensScored + b.tokensScored,
                     forwardPasses: a.forwardPasses + b.forwardPasses)
    }

    /// Elementwise difference (usage between two snapshots).
    public static func - (a: ComputeUsage, b: ComputeUsage) -> ComputeUsage {
        ComputeUsage(tokensGenerated: a.tokensGenerated - b.tokensGenerated, tokensScored: a.tokensScored - b.tokensScored,
                     forwardPasses: a.forwardPasses - b.forwardPasses)
    }
}
