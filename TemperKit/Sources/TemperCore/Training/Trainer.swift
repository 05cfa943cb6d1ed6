import Foundation

/// What a finished (or stopped) run reports.
public struct TrainingSummary {
    /// Optimizer steps completed.
    public var globalStep: Int
    /// Mean training loss of the last logged window.
    public var lastLoss: Double?
    /// Evaluation loss at the last evaluation, if any.
    public var evalLoss: Double?
    /// The last evaluation in full (perplexity or the objective's own metrics, `rewards/accuracies`, ...).
    public var evaluation: EvaluationResult?
    /// The newest checkpoint written.
    public var lastCheckpoint: URL?
    /// Steps skipped for a non-finite loss or gradient.
    public var skippedSteps: Int
    /// Wall-clock seconds spent in this call.
    public var seconds: Double
}

/// What an evaluation pass measured.
public struct EvaluationResult {
    /// The objective's loss, averaged as in training.
    public var loss: Double
    /// exp(loss), for token-weighted (language-modelling) objectives; nil for per-sequence ones.
    public var perplexity: Double?
    /// The objective's metrics, averaged the same way.
    public var metrics: [String: Double]

    /// One line for the progress output.
    public var summary: String {
        var parts = ["loss \(String(format: "%.4f", loss))"]
        if let perplexity { parts.append("perplexity \(String(format: "%.3f", perplexity))") }
        parts += metrics.keys.sorted().map { "\($0) \(String(format: "%.4g", metrics[$0]!))" }
        return parts.joined(separator: ", ")
    }
}

/// The training loop: micro-batches → objective → backward (token-weighted gradient
/// accumulation) → clipping → optimizer step, with the schedule, logging, evaluation and
/// checkpoints of Transformers' `Trainer`. Micro-batches come from a dataset, or — for objectives
/// that train on rollouts — from a `RolloutLoop` that samples them from the policy itself.
///
/// A run is a pure function of its settings, data, initial weights and seed: each epoch's data
/// order derives from the seed, and checkpoints hold everything else that changes (trainable
/// weights, optimizer state, the schedule, the generator, progress), so a resumed run ends with
/// the same bits as one that never stopped.
public final class Trainer {
    /// The model being trained.
    public let policy: any TrainableLanguageModel
    /// The frozen reference the objective may compare against (the teacher of `distill`), if any.
    public var reference: (any TrainableLanguageModel)?
    /// The loss.
    public let objective: any Objective
    /// The optimizer; its `learningRate` when the trainer is built is the schedule's peak.
    public let optimizer: any Optimizer
    /// What the optimizer updates.
    public let groups: [ParameterGroup]
    /// Training data (nil for on-policy objectives, which train on `rollouts`).
    public let trainData: TokenizedDataset?
    /// The on-policy feed, for objectives that train on rollouts.
    public let rollouts: RolloutLoop?
    /// Evaluation data, if any.
    public let evalData: TokenizedDataset?
    /// Settings.
    public let config: TrainerConfig
    /// The packed GEMM's precision while `train` runs (the recipe's `bf16`); the process's own is
    /// restored after, so an eval or generation built later in the process runs in float32.
    public var precision = GEMMPrecision.float32
    /// Where progress lines go (nil: silent).
    public var reporter: ProgressReporter?
    /// The generator for stochastic parts of a step that draw from the trainer; checkpointed.
    public var rng: PhiloxRNG
    /// Progress so far.
    public private(set) var state: TrainerState
    /// The learning-rate schedule.
    public let schedule: LearningRateSchedule
    /// The newest checkpoint this trainer wrote or resumed from: the one a failure falls back to.
    public private(set) var lastCheckpoint: URL?
    /// The ranks sharing each step (data parallel): each trains its share of the global batch, and
    /// only rank 0 writes checkpoints and metrics. `SingleProcess` by default.
    public let communicator: any Communicator
    /// Micro-batches per optimizer step over all ranks: `gradient_accumulation_steps` × ranks.
    public let microBatchesPerStep: Int
    /// The forgetting probe: perplexity on held-out general text, logged before the first step and
    /// after the last (`general_perplexity`, with `_before` and `_change` at the end); nil: not measured.
    public var generalText: GeneralPerplexity?

    let padID: Int32
    var store: CheckpointStore
    private let trainable: [NamedParameter]
    private let batchesPerEpoch: Int
    /// Optimizer steps per pass over the data: ⌈micro-batches / accumulation⌉, the last one short
    /// when they do not divide (as Transformers' Trainer), so every epoch is exactly one pass.
    private let stepsPerEpoch: Int
    private var epochOrder: (epoch: Int, order: [Int])? = nil
    /// The order the gradient buckets leave in under several ranks: learnt from rank 0's first
    /// backward (nil before it).
    private var bucketOrder: [Int]?

    /// A trainer on dataset batches. `padID` fills padding (any valid id: padded positions are masked out).
    public convenience init(policy: any TrainableLanguageModel, objective: any Objective, optimizer: any Optimizer, groups: [ParameterGroup],
                            trainData: TokenizedDataset, evalData: TokenizedDataset? = nil, padID: Int32, config: TrainerConfig,
                            communicator: any Communicator = SingleProcess()) throws {
        guard objective.inputKind == .batches else {
            throw TrainingError("objective '\(type(of: objective).name)' trains on rollouts; this trainer feeds dataset batches")
        }
        try self.init(policy: policy, objective: objective, optimizer: optimizer, groups: groups, trainData: trainData, rollouts: nil,
                      evalData: evalData, padID: padID, config: config, communicator: communicator)
    }

    /// A trainer on rollouts that `rollouts` samples from the policy (GRPO, RLOO, ...); under
    /// several ranks the loop must share the trainer's communicator.
    public convenience init(policy: any TrainableLanguageModel, objective: any Objective, optimizer: any Optimizer, groups: [ParameterGroup],
                            rollouts: RolloutLoop, padID: Int32, config: TrainerConfig, communicator: any Communicator = SingleProcess()) throws {
        guard objective.inputKind == .rollouts else {
            throw TrainingError("objective '\(type(of: objective).name)' trains on dataset batches; this trainer feeds rollouts")
        }
        guard rollouts.microBatchSize == config.perDeviceTrainBatchSize else {
            throw TrainingError("the rollout loop's micro-batch of \(rollouts.microBatchSize) differs from per_device_train_batch_size \(config.perDeviceTrainBatchSize)")
        }
        // Any two single-process communicators are the same process; ranks must be one object.
        guard rollouts.communicator === communicator || (rollouts.communicator.worldSize == 1 && communicator.worldSize == 1) else {
            throw TrainingError("the rollout loop and the trainer must share one communicator (the loop samples each rank's share of the prompts)")
        }
        try self.init(policy: policy, objective: objective, optimizer: optimizer, groups: groups, trainData: nil, rollouts: rollouts,
                      evalData: nil, padID: padID, config: config, communicator: communicator)
    }

    private init(policy: any TrainableLanguageModel, objective: any Objective, optimizer: any Optimizer, groups: [ParameterGroup],
                 trainData: TokenizedDataset?, rollouts: RolloutLoop?, evalData: TokenizedDataset?, padID: Int32, config: TrainerConfig,
                 communicator: any Communicator) throws {
        let flat = groups.flatMap(\.parameters)
        guard !flat.isEmpty else { throw TrainingError("nothing to train: the PEFT method marked no parameter trainable") }
        var seen = Set<String>()
        for p in flat {
            guard seen.insert(p.name).inserted else { throw TrainingError("parameter \(p.name) appears in two parameter groups") }
            guard p.tensor.dtype == .float32, p.tensor.isContiguous else {
                throw TrainingError("trainable parameter \(p.name) must be a contiguous float32 tensor")
            }
        }
        if let e = config.evalSteps, e > 0, evalData == nil { throw TrainingError("eval_steps is set but there is no eval data") }
        self.policy = policy
        self.objective = objective
        self.optimizer = optimizer
        self.groups = groups
        self.trainData = trainData
        self.rollouts = rollouts
        self.evalData = evalData
        self.padID = padID
        self.config = config
        trainable = flat
        self.communicator = communicator
        // Under data parallelism one step consumes `accum` micro-batches on each rank: the global
        // stream, order and schedule are those of one process accumulating accum × ranks.
        let bs = config.perDeviceTrainBatchSize, accum = config.gradientAccumulationSteps * communicator.worldSize
        microBatchesPerStep = accum
        guard config.maxSteps != 0 else {
            throw TrainingError("max_steps is 0, which would train nothing; set max_steps > 0, or -1 (the default) to train for num_train_epochs")
        }
        batchesPerEpoch = rollouts?.microBatchesPerEpoch ?? ((trainData?.examples.count ?? 0) + bs - 1) / bs
        // The rollout loop numbers its micro-batches as one stream of generation batches; dataset
        // epochs end on a (possibly short) step of their own.
        stepsPerEpoch = rollouts == nil ? (batchesPerEpoch + accum - 1) / accum : 0
        let total = config.maxSteps > 0 ? config.maxSteps
            : rollouts == nil ? max(1, Int((config.numTrainEpochs * Double(stepsPerEpoch)).rounded(.up)))
            : max(1, Int((config.numTrainEpochs * Double(batchesPerEpoch) / Double(accum)).rounded(.up)))
        schedule = LearningRateSchedule(kind: config.lrSchedulerType, peak: Double(optimizer.learningRate), totalSteps: total,
                                        warmupSteps: config.warmupSteps, warmupRatio: config.warmupRatio, minLRRate: config.minLRRate)
        rng = PhiloxRNG(seed: UInt64(config.seed))
        state = TrainerState(globalStep: 0, epoch: 0, maxSteps: total, microBatchesConsumed: 0, skippedSteps: 0, numTokens: 0,
                             trainBatchSize: bs, gradientAccumulationSteps: accum, seed: config.seed, logHistory: [])
        store = CheckpointStore(outputDir: config.outputDir, totalLimit: config.saveTotalLimit)
    }

    /// Trainable parameter elements.
    public var trainableParameterCount: Int { trainable.reduce(0) { $0 + $1.tensor.count } }

    /// Runs to the last step, or through step `stopAfter` (as if interrupted there).
    /// `resumeFrom` continues from a checkpoint folder.
    @discardableResult
    public func train(resumeFrom: URL? = nil, stopAfter: Int? = nil) throws -> TrainingSummary {
        try GEMMPrecision.using(precision) { try trainInPrecision(resumeFrom: resumeFrom, stopAfter: stopAfter) }
    }

    private func trainInPrecision(resumeFrom: URL?, stopAfter: Int?) throws -> TrainingSummary {
        let started = Date()
        if let resumeFrom { try restore(from: resumeFrom) }
        try communicator.checkSameOnEveryRank(rankAgreement)
        let metrics = communicator.isRoot ? try MetricsLog(url: config.outputDir.appendingPathComponent("metrics.jsonl"),
                                                           keepThroughStep: resumeFrom == nil ? nil : state.globalStep) : nil
        var summary = TrainingSummary(globalStep: state.globalStep, lastLoss: nil, evalLoss: nil,
                                      lastCheckpoint: lastCheckpoint, skippedSteps: state.skippedSteps, seconds: 0)
        let end = min(state.maxSteps, stopAfter ?? .max)
        var window = LogWindow()
        let sessionStart = Date(), sessionFirstStep = state.globalStep
        var lastReport = Date()
        var zeroGradientSteps = 0
        if state.globalStep == 0, let generalText { try logGeneralPerplexity(to: metrics) { try generalText.entryBefore(policy) } }
        while state.globalStep < end {
            let step = state.globalStep
            let lr = schedule.learningRate(step: step)
            optimizer.learningRate = Float(lr)
            let outcome = try runStep(step: step)
            state.microBatchesConsumed += rollouts == nil ? microBatches(of: step).count : microBatchesPerStep
            state.globalStep += 1
            state.epoch = rollouts?.epoch ?? Double(state.globalStep) / Double(stepsPerEpoch)
            if let problem = outcome.nonFinite {
                guard config.skipNonfiniteSteps else {
                    throw TrainingError("step \(step + 1): \(problem); training stopped. \(resumeHint) " +
                                        "Lower learning_rate or max_grad_norm, check the data, or set skip_nonfinite_steps to skip such steps.")
                }
                state.skippedSteps += 1
                summary.skippedSteps = state.skippedSteps
                reporter?.message("step \(step + 1): \(problem); step skipped (skip_nonfinite_steps)")
            } else {
                state.numTokens += outcome.targetTokens
                window.add(outcome, lr: lr)
            }
            try checkHealth(outcome, zeroGradientSteps: &zeroGradientSteps)
            let now = Date()
            let logged = state.globalStep % config.loggingSteps == 0 || state.globalStep == state.maxSteps
            let done = Double(state.globalStep - sessionFirstStep)
            let eta = now.timeIntervalSince(sessionStart) / done * Double(state.maxSteps - state.globalStep)
            if let reporter, window.steps > 0 {
                reporter.step(StepProgress(step: state.globalStep, total: state.maxSteps, loss: window.meanLoss, learningRate: lr,
                                           gradNorm: window.lastGradNorm, tokensPerSecond: Double(window.tokens) / max(1e-9, now.timeIntervalSince(lastReport)),
                                           etaSeconds: eta, extra: window.shown), logged: logged)
            }
            if logged && window.steps > 0 {
                var entry = window.entry(seconds: now.timeIntervalSince(lastReport))
                entry["step"] = Double(state.globalStep)
                entry["epoch"] = state.epoch
                entry["num_tokens"] = Double(state.numTokens)
                try metrics?.append(entry)
                state.logHistory.append(entry)
                summary.lastLoss = window.meanLoss
                window = LogWindow()
                lastReport = now
            }
            let evalDue = evalData != nil && ((config.evalSteps.map { state.globalStep % $0 == 0 } ?? false) || state.globalStep == state.maxSteps)
            if evalDue {
                let result = try evaluate()
                var entry = ["step": Double(state.globalStep), "epoch": state.epoch, "eval_loss": result.loss]
                if let ppl = result.perplexity { entry["eval_perplexity"] = ppl }
                for (k, v) in result.metrics { entry["eval_" + k] = v }
                try metrics?.append(entry)
                state.logHistory.append(entry)
                summary.evalLoss = result.loss
                summary.evaluation = result
                reporter?.message("eval at step \(state.globalStep): \(result.summary)")
                lastReport = Date()
            }
            if state.globalStep % config.saveSteps == 0 || state.globalStep == state.maxSteps {
                summary.lastCheckpoint = try saveCheckpoint()
            }
        }
        if state.globalStep == state.maxSteps, state.globalStep > sessionFirstStep, let generalText {
            try logGeneralPerplexity(to: metrics) { try generalText.entryAfter(policy, step: state.globalStep, history: state.logHistory) }
        }
        summary.globalStep = state.globalStep
        summary.seconds = Date().timeIntervalSince(started)
        writeRunReport(seconds: summary.seconds)
        return summary
    }

    /// What every rank of a data-parallel run must have alike before the first step, else they
    /// would train different global batches or deadlock: checked against rank 0's at the start.
    var rankAgreement: [String: String] {
        var s = ["seed": String(config.seed), "per_device_train_batch_size": String(config.perDeviceTrainBatchSize),
                 "micro-batches per step": String(microBatchesPerStep), "max_steps": String(state.maxSteps),
                 "resumed at step": String(state.globalStep), "learning_rate": String(schedule.peak),
                 "trainable parameters": "\(trainable.count) tensors, \(trainableParameterCount) elements"]
        if let trainData { s["training examples"] = String(trainData.examples.count) }
        if let evalData { s["eval examples"] = String(evalData.examples.count) }
        if let rollouts { s["prompts"] = String(rollouts.prompts.examples.count) }
        return s
    }

    /// Appends the forgetting-probe entry `measure` makes to metrics.jsonl and the checkpointed
    /// history (where the after-training entry finds the step-0 value, also after a resume) and
    /// says it, with the seconds the measurement took.
    private func logGeneralPerplexity(to metrics: MetricsLog?, _ measure: () throws -> [String: Double]) throws {
        let started = Date()
        let entry = try measure()
        let seconds = Date().timeIntervalSince(started)
        try metrics?.append(entry)
        state.logHistory.append(entry)
        let change = entry["general_perplexity_change"].map { String(format: " (%+.3f since step 0)", $0) } ?? ""
        reporter?.message(String(format: "general-text perplexity at step %d: %.3f", Int(entry["step"] ?? 0), entry["general_perplexity"] ?? .nan) +
                          change + " on \(generalText?.predictedTokens ?? 0) tokens of \(generalText?.source ?? "")" + String(format: " (%.2f s)", seconds))
    }

    /// Skipping a non-finite step now and then is what `skip_nonfinite_steps` is for; skipping most
    /// of them means nothing is being trained.
    static let maxSkippedShare = 0.5
    /// Skipped shares are judged from this many steps on (and at the last step).
    static let skippedShareMinSteps = 8
    /// Consecutive dataset steps with a loss but an exactly zero gradient that mean the model has
    /// collapsed (e.g. SGD diverged to constant outputs: loss stuck at ln(vocab), nothing flows back).
    static let collapseSteps = 5

    /// Stops a run that has stopped learning: too many skipped steps, or a dead gradient.
    private func checkHealth(_ outcome: StepOutcome, zeroGradientSteps: inout Int) throws {
        let stepsSoFar = state.globalStep
        if state.skippedSteps > 0, stepsSoFar >= Self.skippedShareMinSteps || stepsSoFar == state.maxSteps,
           Double(state.skippedSteps) > Self.maxSkippedShare * Double(stepsSoFar) {
            throw TrainingError("\(state.skippedSteps) of \(stepsSoFar) steps had a non-finite loss or gradient and were skipped " +
                                "(skip_nonfinite_steps); with more than \(Int(Self.maxSkippedShare * 100)) % skipped nothing is being " +
                                "trained, so training stopped without writing a final model. \(resumeHint) " +
                                "Lower learning_rate or max_grad_norm, or check the data.")
        }
        // Rollout objectives can have an exactly zero gradient on purpose (a group of equal rewards).
        let dead = rollouts == nil && outcome.nonFinite == nil && outcome.targetTokens > 0 && outcome.gradNorm == 0 && outcome.loss > 0
        zeroGradientSteps = dead ? zeroGradientSteps + 1 : 0
        if zeroGradientSteps >= Self.collapseSteps {
            throw TrainingError("the model has collapsed: the gradient norm has been exactly 0 for the last \(zeroGradientSteps) steps " +
                                "with the loss at \(outcome.loss), so no further step can change it; training stopped without writing " +
                                "a final model. \(resumeHint) Lower learning_rate (or use an adaptive optimizer) and train again.")
        }
    }

    /// Where the last good weights are, for the messages of a stopped run.
    private var resumeHint: String {
        lastCheckpoint.map { "The last good checkpoint is \($0.path) (resume with --resume_from_checkpoint \($0.path))." }
            ?? "No checkpoint was written before it."
    }

    /// The objective's loss and metrics averaged over the eval data (weighted as in training: by
    /// target tokens or by rows, as the objective says), without gradients and in eval mode;
    /// perplexity (exp of the token-weighted mean loss) only for token-weighted objectives.
    public func evaluate() throws -> EvaluationResult {
        guard let evalData else { throw TrainingError("no eval data to evaluate on") }
        let bs = config.perDeviceTrainBatchSize
        let starts = Array(stride(from: 0, to: evalData.examples.count, by: bs))
        // Under several ranks each evaluates its contiguous share of the batches; the per-batch
        // results are gathered and summed in batch order, the very additions of one process.
        var mine: [EvaluatedBatch] = []
        try withNoGrad {
            try withEvalMode {
                for start in starts[communicator.share(of: starts.count)] {
                    let batch = BatchCollator.collate(Array(evalData.examples[start..<min(start + bs, evalData.examples.count)]), padID: padID)
                    let out = try objective.loss(.batch(batch), context: ObjectiveContext(policy: policy, reference: reference, step: state.globalStep))
                    mine.append(EvaluatedBatch(loss: Double(out.loss.item), weight: weight(of: batch), metrics: out.metrics))
                }
            }
        }
        let all = communicator.worldSize > 1 ? try communicator.allGather(mine).flatMap { $0 } : mine
        var total = 0.0, weightSum = 0.0
        var metricSums: [String: Double] = [:]
        for b in all {
            total += b.loss * b.weight
            for (k, v) in b.metrics { metricSums[k, default: 0] += v * b.weight }
            weightSum += b.weight
        }
        let loss = weightSum == 0 ? 0 : total / weightSum
        return EvaluationResult(loss: loss, perplexity: objective.lossWeighting == .tokens ? exp(loss) : nil,
                                metrics: metricSums.mapValues { weightSum == 0 ? 0 : $0 / weightSum })
    }

    /// What a micro-batch counts for in a weighted mean (`Objective.lossWeighting`).
    private func weight(of batch: TrainingBatch) -> Double {
        switch objective.lossWeighting {
        case .tokens: return Double(batch.lossMask.scalars.reduce(0, +))
        case .sequences: return Double(batch.inputIDs.shape[0])
        }
    }

    /// What a rollout micro-batch counts for: its completion tokens, or its rows.
    private func weight(of batch: RolloutBatch) -> Double {
        switch objective.lossWeighting {
        case .tokens: return Double(batch.completionMask.scalars.reduce(0, +))
        case .sequences: return Double(batch.rowCount)
        }
    }

    /// One eval batch's mean loss, weight and metrics, as it travels between ranks (doubles as
    /// bit patterns, so the gathered sums are one process's to the bit).
    struct EvaluatedBatch: Codable {
        var lossBits: UInt64, weightBits: UInt64
        var metricBits: [String: UInt64]
        init(loss: Double, weight: Double, metrics: [String: Double]) {
            lossBits = loss.bitPattern
            weightBits = weight.bitPattern
            metricBits = metrics.mapValues(\.bitPattern)
        }
        var loss: Double { Double(bitPattern: lossBits) }
        var weight: Double { Double(bitPattern: weightBits) }
        var metrics: [String: Double] { metricBits.mapValues(Double.init(bitPattern:)) }
    }

    // MARK: - One step

    struct StepOutcome: Codable {
        var loss: Double
        var gradNorm: Double
        var targetTokens: Int
        var inputTokens: Int
        var metrics: [String: Double]
        var nonFinite: String?
    }

    private func runStep(step: Int) throws -> StepOutcome {
        let started = Date()
        var outcome = StepOutcome(loss: 0, gradNorm: 0, targetTokens: 0, inputTokens: 0, metrics: [:], nonFinite: nil)
        var inputs: [(input: ObjectiveInput, weight: Double, attention: Tensor)] = []
        var generationSeconds = 0.0, generationMetrics: [String: Double] = [:]
        // The step-wide number of this rank's first micro-batch, which keys its dropout masks as
        // one process would.
        var firstInput = 0
        if rollouts == nil {
            firstInput = communicator.share(of: microBatches(of: step).count).lowerBound
            for index in localMicroBatches(of: step) {
                let batch = microBatch(at: index)
                outcome.targetTokens += Int(batch.lossMask.scalars.reduce(0, +))
                inputs.append((.batch(batch), weight(of: batch), batch.attentionMask))
            }
        }
        // Every rank walks every micro-batch of the step, so generation rounds (collective under
        // several ranks) start together; each keeps only its own share.
        let mine = communicator.share(of: microBatchesPerStep)
        for k in 0..<microBatchesPerStep {
            guard let rollouts else { break }
            let index = state.microBatchesConsumed + k
            let part = try rollouts.microBatch(at: index, policy: policy, reference: reference, objective: objective, step: step)
            generationSeconds += part.generationSeconds
            // Every micro-batch of a generation batch reports that batch's metrics: kept once.
            generationMetrics.merge(part.metrics) { _, new in new }
            if let problem = part.problem {
                outcome.metrics = generationMetrics
                outcome.nonFinite = problem
                return outcome
            }
            guard let batch = part.batch else { continue }
            guard mine.contains(k) else { firstInput += k < mine.lowerBound ? 1 : 0; continue }
            outcome.targetTokens += Int(batch.completionMask.scalars.reduce(0, +))
            inputs.append((.rollouts(batch), weight(of: batch), batch.attentionMask))
        }
        try accumulate(inputs, firstInput: firstInput, step: step, into: &outcome)
        if rollouts != nil {
            outcome.metrics.merge(generationMetrics) { own, _ in own }
            let training = Date().timeIntervalSince(started) - generationSeconds
            outcome.metrics["train_tokens_per_second"] = Double(outcome.inputTokens) / max(training, 1e-9)
        }
        return outcome
    }

    /// Forward and backward of every micro-batch, each loss weighted by its share of the step, then
    /// clipping and the optimizer step (skipped when the step had nothing to train on). Under several
    /// ranks the weights, step outcome and gradients are summed over the ranks first.
    private func accumulate(_ inputs: [(input: ObjectiveInput, weight: Double, attention: Tensor)], firstInput: Int, step: Int,
                            into outcome: inout StepOutcome) throws {
        let totalWeight = try communicator.allReduceSum(inputs.reduce(0) { $0 + $1.weight })
        for p in trainable { p.tensor.grad = nil }
        defer { for p in trainable { p.tensor.grad = nil } }
        let context = ObjectiveContext(policy: policy, reference: reference, step: step)
        // Under several ranks the gradient sum starts during this rank's last backward of the step.
        let overlap = communicator.worldSize > 1 ? OverlappedGradientAllReduce(trainable, communicator: communicator, order: bucketOrder) : nil
        let last = inputs.lastIndex { $0.weight > 0 }
        for (k, (input, w, attention)) in inputs.enumerated() where w > 0 {
            outcome.inputTokens += attention.scalars.reduce(0) { $0 + ($1 != 0 ? 1 : 0) }   // packed rows number their tokens
            // Dropout masks are a function of (seed, step, micro-batch): a resumed run draws the same.
            let key = TrainingMode.dropoutKey(seed: UInt64(truncatingIfNeeded: config.seed), step: step, microBatch: firstInput + k)
            let finite = try TrainingMode.withDropoutKey(key) { () throws -> Bool in
                let out = try objective.loss(input, context: context)
                guard out.loss.count == 1 else {
                    throw TrainingError("objective '\(type(of: objective).name)' returned a loss of shape \(out.loss.shape); expected a scalar")
                }
                // Each micro-batch's mean loss weighted by its share of the step's target tokens (or
                // rows, for per-sequence losses): the step's gradient is that of the mean over all of
                // them, whatever the split.
                let share = w / totalWeight
                let value = Double(out.loss.item)
                outcome.loss += value * share
                for (k, v) in out.metrics { outcome.metrics[k, default: 0] += v * share }
                guard value.isFinite else { outcome.nonFinite = "the loss is \(value)"; return false }
                if out.loss.requiresGrad {
                    let seed = Tensor(shape: out.loss.shape, scalars: [Float(share)])
                    if k == last, let overlap { try overlap.backward { out.loss.backward(seed) } } else { out.loss.backward(seed) }
                }
                return true
            }
            guard finite else { break }
        }
        // Every rank reaches this point (a rank whose loss was not finite stopped its backward
        // early): the step's loss, counts and skip decision are the whole job's, so all take the same step.
        if let overlap {
            // Every rank sends every bucket, also one that stopped early (its sums are then discarded).
            try overlap.finish()
            if bucketOrder == nil {
                bucketOrder = try OverlappedGradientAllReduce.agreedOrder(overlap.observedOrder, count: trainable.count, communicator: communicator)
            }
            outcome = StepOutcome.combined(try communicator.allGather(outcome))
            guard outcome.nonFinite == nil else { return }
        } else if outcome.nonFinite != nil {
            return
        }
        outcome.gradNorm = GradientNorm.global(trainable)
        guard outcome.gradNorm.isFinite else { outcome.nonFinite = "the gradient norm is \(outcome.gradNorm)"; return }
        if config.maxGradNorm > 0 { GradientNorm.clip(trainable, norm: outcome.gradNorm, maxNorm: config.maxGradNorm) }
        if totalWeight > 0 { try optimizer.step(groups) }
    }

    /// This rank's contiguous share of `microBatches(of: step)`.
    private func localMicroBatches(of step: Int) -> Range<Int> {
        let all = microBatches(of: step), mine = communicator.share(of: all.count)
        return (all.lowerBound + mine.lowerBound)..<(all.lowerBound + mine.upperBound)
    }

    /// The micro-batches (indices into the endless stream) that dataset step `step` trains on:
    /// `gradient_accumulation_steps` of them, fewer on an epoch's last step when they do not divide.
    private func microBatches(of step: Int) -> Range<Int> {
        let epoch = step / stepsPerEpoch, first = (step % stepsPerEpoch) * microBatchesPerStep
        let start = epoch * batchesPerEpoch + first
        return start..<(start + min(microBatchesPerStep, batchesPerEpoch - first))
    }

    /// Micro-batch `index` of the endless stream: epoch after epoch, each in its own seeded order.
    private func microBatch(at index: Int) -> TrainingBatch {
        let epoch = index / batchesPerEpoch, k = index % batchesPerEpoch
        if epochOrder?.epoch != epoch {
            epochOrder = (epoch, EpochOrder.permutation(count: trainData!.examples.count, seed: UInt64(config.seed), epoch: epoch))
        }
        let order = epochOrder!.order
        let bs = config.perDeviceTrainBatchSize
        let rows = order[(k * bs)..<min(order.count, (k + 1) * bs)].map { trainData!.examples[$0] }
        return BatchCollator.collate(rows, padID: padID)
    }

    // MARK: - Checkpoints

    /// Writes `output_dir/checkpoint-<step>/` and prunes old ones; under several ranks rank 0
    /// writes it (every rank holds the same state) and the others wait until it is in place.
    @discardableResult
    public func saveCheckpoint() throws -> URL {
        guard communicator.isRoot else {
            try communicator.barrier()
            lastCheckpoint = store.folder(step: state.globalStep)
            return lastCheckpoint!
        }
        var weights: [String: Tensor] = [:]
        for p in trainable { weights[p.name] = p.tensor }
        var extraFiles: [String: Data] = [:]
        if let rollouts { extraFiles[RolloutLoop.checkpointFileName] = try rollouts.checkpointData() }
        let objectiveState = objective.checkpointState()
        state.objectiveState = objectiveState.isEmpty ? nil : objectiveState
        let url = try store.save(CheckpointContents(weights: weights, optimizerState: optimizer.state(), schedule: schedule,
                                                    rng: rng.state, state: state, extraFiles: extraFiles))
        lastCheckpoint = url
        reporter?.message("saved \(url.path)")
        if communicator.worldSize > 1 { try communicator.barrier() }
        return url
    }

    /// Loads a checkpoint written by a run with the same settings.
    private func restore(from folder: URL) throws {
        let c = try CheckpointStore.load(from: folder)
        let s = c.state
        func mismatch(_ what: String, _ saved: Any, _ now: Any) -> TrainingError {
            TrainingError("cannot resume from \(folder.path): it was written with \(what) \(saved), this run has \(now); resuming needs the same settings")
        }
        if s.trainBatchSize != state.trainBatchSize { throw mismatch("per_device_train_batch_size", s.trainBatchSize, state.trainBatchSize) }
        if s.gradientAccumulationSteps != state.gradientAccumulationSteps {
            // The state counts micro-batches per step over all ranks (the global batch), so a run
            // resumes on any number of ranks whose gradient_accumulation_steps × ranks is the same.
            throw TrainingError("cannot resume from \(folder.path): it was written with \(s.gradientAccumulationSteps) micro-batches per step " +
                                "(gradient_accumulation_steps × ranks), this run has \(state.gradientAccumulationSteps) " +
                                "(\(config.gradientAccumulationSteps) × \(communicator.worldSize)); resuming needs the same global batch")
        }
        if s.seed != state.seed { throw mismatch("seed", s.seed, state.seed) }
        if c.schedule != schedule { throw mismatch("the learning-rate schedule", c.schedule.summary, schedule.summary) }
        let names = Set(trainable.map(\.name))
        if let extra = c.weights.keys.sorted().first(where: { !names.contains($0) }) {
            throw TrainingError("cannot resume from \(folder.path): it holds \(extra), which this run does not train (another PEFT setup?)")
        }
        for p in trainable {
            guard let saved = c.weights[p.name] else {
                throw TrainingError("cannot resume from \(folder.path): it lacks trainable parameter \(p.name)")
            }
            guard saved.shape == p.tensor.shape, saved.dtype == .float32 else {
                throw TrainingError("cannot resume from \(folder.path): \(p.name) is \(saved.dtype) \(saved.shape) there, \(p.tensor.shape) here")
            }
            let src = saved.contiguous()
            withExtendedLifetime(src) { p.tensor.floatPointer.update(from: src.floatPointer, count: p.tensor.count) }
        }
        try optimizer.load(state: c.optimizerState)
        if let rollouts {
            let file = folder.appendingPathComponent(RolloutLoop.checkpointFileName)
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw TrainingError("cannot resume from \(folder.path): it has no \(RolloutLoop.checkpointFileName) (written by a run that did not train on rollouts?)")
            }
            try rollouts.restore(data, source: file.path)
        }
        rng = PhiloxRNG(state: c.rng)
        try objective.restoreState(s.objectiveState ?? [:])
        state = s
        lastCheckpoint = folder
        reporter?.message("resumed from \(folder.path) at step \(s.globalStep)/\(s.maxSteps)")
    }
}

/// Sums over the steps since the last log line.
private struct LogWindow {
    var steps = 0
    var lossSum = 0.0
    var tokens = 0
    var lastGradNorm = 0.0
    var lastLR = 0.0
    var metricSums: [String: Double] = [:]

    mutating func add(_ o: Trainer.StepOutcome, lr: Double) {
        steps += 1
        lossSum += o.loss
        tokens += o.inputTokens
        lastGradNorm = o.gradNorm
        lastLR = lr
        for (k, v) in o.metrics { metricSums[k, default: 0] += v }
    }

    var meanLoss: Double { steps == 0 ? .nan : lossSum / Double(steps) }

    /// What the progress line adds to the loss: the mean reward of on-policy runs.
    var shown: [(name: String, value: Double)] {
        metricSums["reward"].map { [("reward", $0 / Double(steps))] } ?? []
    }

    func entry(seconds: Double) -> [String: Double] {
        var e: [String: Double] = ["loss": meanLoss, "learning_rate": lastLR, "grad_norm": lastGradNorm,
                                   "tokens_per_second": Double(tokens) / max(1e-9, seconds)]
        for (k, v) in metricSums { e[k] = v / Double(steps) }
        return e
    }
}

extension Trainer.StepOutcome {
    /// One step's outcome over all ranks: losses and metrics are each rank's share-weighted
    /// parts (shares of the global weight), so they add up; counts add; the first non-finite
    /// problem (by rank) names the step's.
    static func combined(_ parts: [Trainer.StepOutcome]) -> Trainer.StepOutcome {
        var out = Trainer.StepOutcome(loss: 0, gradNorm: 0, targetTokens: 0, inputTokens: 0, metrics: [:], nonFinite: nil)
        for (rank, part) in parts.enumerated() {
            out.loss += part.loss
            out.targetTokens += part.targetTokens
            out.inputTokens += part.inputTokens
            for (k, v) in part.metrics { out.metrics[k, default: 0] += v }
            if out.nonFinite == nil, let problem = part.nonFinite { out.nonFinite = parts.count > 1 ? "on rank \(rank): \(problem)" : problem }
        }
        return out
    }
}
