import Foundation

/// The trainer's settings (Hugging Face `TrainingArguments` names in `TrainingRecipe`).
public struct TrainerConfig: Equatable {
    /// Checkpoints, metrics.jsonl and the final adapter go here.
    public var outputDir: URL
    /// Sequences per micro-batch.
    public var perDeviceTrainBatchSize = 8
    /// Micro-batches per optimizer step.
    public var gradientAccumulationSteps = 1
    /// Passes over the data when `maxSteps` is -1; each ends on a step of its own.
    public var numTrainEpochs = 3.0
    /// Optimizer steps; -1 means derive from `numTrainEpochs` (0, training nothing, is refused).
    public var maxSteps = -1
    /// The learning-rate schedule after warmup.
    public var lrSchedulerType = LearningRateSchedule.Kind.linear
    /// Floor of `cosine_with_min_lr`, as a fraction of the peak.
    public var minLRRate = 0.0
    /// Warmup as a fraction of all steps.
    public var warmupRatio = 0.0
    /// Warmup steps (overrides `warmupRatio` when > 0).
    public var warmupSteps = 0
    /// Clip the global gradient norm to this; 0 turns clipping off.
    public var maxGradNorm = 1.0
    /// Seeds data order and the trainer's generator.
    public var seed = 42
    /// Log every this many steps.
    public var loggingSteps = 10
    /// Evaluate every this many steps (nil: only if an eval set is given, at the end).
    public var evalSteps: Int? = nil
    /// Checkpoint every this many steps (and at the last step).
    public var saveSteps = 500
    /// Keep at most this many checkpoints.
    public var saveTotalLimit: Int? = nil
    /// Skip a step whose loss or gradient is not finite instead of stopping.
    public var skipNonfiniteSteps = false

    /// Defaults, writing to `outputDir`.
    public init(outputDir: URL) { self.outputDir = outputDir }

    /// The settings of `recipe`.
    public init(recipe r: TrainingRecipe) throws {
        outputDir = URL(fileURLWithPath: r.string("output_dir") ?? "runs/temper")
        perDeviceTrainBatchSize = try r.int("per_device_train_batch_size")
        gradientAccumulationSteps = try r.int("gradient_accumulation_steps")
        numTrainEpochs = try r.double("num_train_epochs")
        maxSteps = try r.int("max_steps")
        guard let kind = LearningRateSchedule.Kind(rawValue: r.string("lr_scheduler_type") ?? "linear") else {
            throw SpecError("recipe: lr_scheduler_type '\(r.string("lr_scheduler_type") ?? "")' is not a schedule the trainer implements")
        }
        lrSchedulerType = kind
        minLRRate = try r.double("min_lr_rate")
        warmupRatio = try r.double("warmup_ratio")
        warmupSteps = try r.int("warmup_steps")
        maxGradNorm = try r.double("max_grad_norm")
        seed = try r.int("seed")
        loggingSteps = try r.int("logging_steps")
        evalSteps = r.isSet("eval_steps") ? try r.int("eval_steps") : nil
        saveSteps = try r.int("save_steps")
        saveTotalLimit = r.isSet("save_total_limit") ? try r.int("save_total_limit") : nil
        skipNonfiniteSteps = try r.bool("skip_nonfinite_steps")
    }
}
