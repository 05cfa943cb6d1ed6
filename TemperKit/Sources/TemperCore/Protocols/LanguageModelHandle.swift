/// The language model as search strategies, step scorers and rollout generation see it: tokenize,
/// render chats, generate, score, and decode step by step in sessions whose rows share prefixes.
/// `PretrainedModelHandle` implements it over a loaded model; tests use `ScriptedLanguageModel`.
///
/// Every call reports the work it did through `usage` (sessions included), so a strategy can
/// report its compute honestly.
public protocol LanguageModelHandle: AnyObject {
    /// Text → token ids (no special tokens added).
    func tokenize(_ text: String) throws -> [Int32]
    /// Token ids → text.
    func detokenize(_ ids: [Int32]) throws -> String
    /// Ids that end a sequence (the model's end-of-turn / end-of-text tokens). `generate` and
    /// sessions stop at these in addition to `GenerationOptions.stopTokenIds`.
    var endOfSequenceTokenIDs: [Int32] { get }
    /// The prompt text the model's chat template makes of `messages`, ending with the assistant's
    /// turn opened (what `tokenize` then turns into a prompt).
    func renderChat(_ messages: [ChatMessage]) throws -> String
    /// Samples `options.numReturnSequences` continuations of each prompt in one batched decode;
    /// `result[i]` belongs to prompt `i`.
    func generate(prompts: [[Int32]], options: GenerationOptions) throws -> [[GeneratedSequence]]
    /// For each pair, `log p(continuation[t] | prompt, continuation[..<t])` for every `t`: the pairs
    /// are scored in padded batches (one forward pass per batch), not one pass each.
    func logprobs(_ pairs: [LogprobRequest]) throws -> [[Float]]
    /// A decoding session whose rows start as `prompts` (row `i` is prompt `i`, prefilled in one
    /// batch).
    func startSession(prompts: [[Int32]]) throws -> any DecodingSession
    /// Compute used so far by this handle and its sessions.
    var usage: ComputeUsage { get }
}

/// One (prompt, continuation) pair to score with `LanguageModelHandle.logprobs`.
public struct LogprobRequest: Equatable, Sendable {
    /// The conditioning tokens (not scored); at least one.
    public var prompt: [Int32]
    /// The tokens whose log-probabilities are returned.
    public var continuation: [Int32]

    /// A pair from parts.
    public init(prompt: [Int32], continuation: [Int32]) {
        self.prompt = prompt
        self.continuation = continuation
    }
}

extension LanguageModelHandle {
    /// `log p(continuation[t] | prompt, continuation[..<t])` for one pair.
    public func logprobs(prompt: [Int32], continuation: [Int32]) throws -> [Float] {
        try logprobs([LogprobRequest(prompt: prompt, continuation: continuation)])[0]
    }
}

/// Inference compute, the x-axis of every test-time-scaling plot.
public struct ComputeUsage: Equatable, Sendable {
    /// Tokens produced by sampling.
    public var tokensGenerated: Int
    /// Tokens processed in prefill, teacher-forcing or scoring passes (not sampled ones).
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
