/// The trainer's progress, saved as `trainer_state.json` in every checkpoint (Transformers' field
/// names where they exist).
public struct TrainerState: Codable, Equatable {
    /// Optimizer steps completed.
    public var globalStep: Int
    /// Fractional epochs completed.
    public var epoch: Double
    /// Steps the run will take in total.
    public var maxSteps: Int
    /// Micro-batches consumed so far; with the seed, this fixes where the data stream resumes.
    public var microBatchesConsumed: Int
    /// Steps skipped because their loss or gradient was not finite (`skip_nonfinite_steps`).
    public var skippedSteps: Int
    /// Target tokens trained on so far.
    public var numTokens: Int
    /// Sequences per micro-batch.
    public var trainBatchSize: Int
    /// Micro-batches per optimizer step.
    public var gradientAccumulationSteps: Int
    /// The run's seed.
    public var seed: Int
    /// Every logged entry so far (what metrics.jsonl holds).
    public var logHistory: [[String: Double]]
    /// The objective's own state at the checkpoint (`Objective.checkpointState()`); nil when it
    /// keeps none, and in checkpoints written before objectives could keep state.
    public var objectiveState: [String: Double]? = nil

    enum CodingKeys: String, CodingKey {
        case globalStep = "global_step", epoch, maxSteps = "max_steps", microBatchesConsumed = "micro_batches_consumed"
        case skippedSteps = "skipped_steps", numTokens = "num_tokens", trainBatchSize = "train_batch_size"
        case gradientAccumulationSteps = "gradient_accumulation_steps", seed, logHistory = "log_history"
        case objectiveState = "objective_state"
    }
}
