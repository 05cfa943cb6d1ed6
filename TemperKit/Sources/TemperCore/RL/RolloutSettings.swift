/// How the on-policy loop samples and reuses rollouts (TRL GRPOConfig's generation fields).
public struct RolloutSettings: Equatable {
    /// Completions per prompt (the group size G).
    public var numGenerations = 8
    /// Prompt tokens kept (the last ones); nil keeps all.
    public var maxPromptLength: Int? = nil
    /// Most new tokens per completion; a completion that reaches it is truncated.
    public var maxCompletionLength = 512
    /// Sampling temperature; log-probabilities are read at it too.
    public var temperature: Float = 1
    /// Nucleus mass (1 = off).
    public var topP: Float = 1
    /// Top-k (0 = off).
    public var topK = 0
    /// Min-p (0 = off).
    public var minP: Float = 0
    /// Repetition penalty (1 = off).
    public var repetitionPenalty: Float = 1
    /// Optimisation passes over each generation batch.
    public var numIterations = 1
    /// Micro-batches per generation batch (nil: the trainer's gradient_accumulation_steps).
    public var stepsPerGeneration: Int? = nil
    /// DAPO's dynamic sampling: groups whose rewards are all equal are replaced by new prompts.
    public var dynamicSampling = false
    /// Sampling rounds per generation batch under dynamic sampling.
    public var dynamicSamplingMaxRounds = 3

    /// The defaults.
    public init() {}

    /// The settings of `recipe`.
    public init(recipe r: TrainingRecipe) throws {
        numGenerations = try r.int("num_generations")
        maxPromptLength = r.isSet("max_prompt_length") ? try r.int("max_prompt_length") : nil
        maxCompletionLength = try r.int("max_completion_length")
        temperature = Float(try r.double("temperature"))
        topP = Float(try r.double("top_p"))
        topK = try r.int("top_k")
        minP = Float(try r.double("min_p"))
        repetitionPenalty = Float(try r.double("repetition_penalty"))
        numIterations = try r.int("num_iterations")
        stepsPerGeneration = r.isSet("steps_per_generation") ? try r.int("steps_per_generation") : nil
        dynamicSampling = try r.bool("dynamic_sampling")
        dynamicSamplingMaxRounds = try r.int("dynamic_sampling_max_rounds")
    }
}
