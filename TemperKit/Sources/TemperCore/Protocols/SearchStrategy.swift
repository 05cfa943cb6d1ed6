/// Limits on how much a search may spend per prompt; nil means no limit of that kind.
public struct SearchBudget: Equatable, Sendable {
    /// Complete candidates to sample per prompt (N in best-of-N).
    public var samplesPerPrompt: Int
    /// Most generated tokens per prompt, summed over candidates.
    public var maxGeneratedTokens: Int?
    /// Most model forward passes per prompt.
    public var maxForwardPasses: Int?

    /// A budget of `samplesPerPrompt` candidates and optional token / pass caps.
    public init(samplesPerPrompt: Int = 1, maxGeneratedTokens: Int? = nil, maxForwardPasses: Int? = nil) {
        self.samplesPerPrompt = samplesPerPrompt
        self.maxGeneratedTokens = maxGeneratedTokens
        self.maxForwardPasses = maxForwardPasses
    }
}

/// What a search is asked to do.
public struct SearchRequest {
    /// The model to sample from.
    public var model: any LanguageModelHandle
    /// Prompts, already chat-rendered.
    public var prompts: [String]
    /// Dataset columns per prompt (passed on to the verifier).
    public var columns: [String: [ColumnValue]]
    /// Scores candidates (outcome reward, reward model, or nil for strategies that need none).
    public var verifier: (any RewardScoring)?
    /// Scores the steps of partial solutions (a PRM, self-evaluation, rollouts) for step-level
    /// strategies; nil for strategies that need none.
    public var stepScorer: (any StepScoring)?
    /// Spending limits.
    public var budget: SearchBudget
    /// Sampling settings for the strategy's generate calls.
    public var generation: GenerationOptions

    /// A request from parts.
    public init(model: any LanguageModelHandle, prompts: [String], columns: [String: [ColumnValue]] = [:],
                verifier: (any RewardScoring)? = nil, stepScorer: (any StepScoring)? = nil, budget: SearchBudget = .init(),
                generation: GenerationOptions = .init()) {
        self.model = model
        self.prompts = prompts
        self.columns = columns
        self.verifier = verifier
        self.stepScorer = stepScorer
        self.budget = budget
        self.generation = generation
    }
}

/// One answer a search produced, with its score.
public struct ScoredCandidate: Equatable, Sendable {
    /// The generated continuation.
    public var sequence: GeneratedSequence
    /// The strategy's score for it (verifier reward, vote share, ...); nil if unscored.
    public var score: Float?

    /// A candidate from parts.
    public init(sequence: GeneratedSequence, score: Float?) {
        self.sequence = sequence
        self.score = score
    }
}

/// What a search returns.
public struct SearchResult {
    /// Per prompt, the candidates the strategy keeps, best first; element 0 is its answer.
    public var candidates: [[ScoredCandidate]]
    /// Compute spent, over all prompts.
    public var usage: ComputeUsage
    /// One message per candidate whose scoring failed (it is kept, scored nil, ranked last),
    /// naming the prompt and the error: a failing candidate never takes the others down.
    public var failures: [String]

    /// A result from parts.
    public init(candidates: [[ScoredCandidate]], usage: ComputeUsage, failures: [String] = []) {
        self.candidates = candidates
        self.usage = usage
        self.failures = failures
    }
}

/// Test-time scaling: turns a model, prompts and a budget into answers (greedy, best-of-N,
/// self-consistency, beam search, MCTS, ...). Online objectives use strategies to make rollouts.
public protocol SearchStrategy: Component, AnyObject {
    /// Runs the search for every prompt in `request`.
    func search(_ request: SearchRequest) throws -> SearchResult
    /// Whether the answer depends on the verifier's scores (best-of-n picks by them, self-refine
    /// stops on them), not only reports them (greedy, sampling): `temper eval` labels such rows
    /// with their verifier, so a figure won with the grader as verifier says "oracle".
    var selectsWithVerifier: Bool { get }
}

extension SearchStrategy {
    public static var kind: ComponentKind { .search }
    /// Only reports the verifier's scores.
    public var selectsWithVerifier: Bool { false }
}
