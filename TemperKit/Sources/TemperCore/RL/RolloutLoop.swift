import Foundation

/// The on-policy feed of the trainer for objectives that train on rollouts (GRPO, RLOO, ...):
/// prompts → `num_generations` completions each from the current policy → rewards → per-token
/// log-probabilities (old policy, reference) → the objective's `prepare` → micro-batches.
///
/// As in TRL, one generation batch holds `per_device_train_batch_size × steps_per_generation`
/// completions (whole groups of `num_generations`) and is consumed as `steps_per_generation`
/// micro-batches, `num_iterations` times over, before the next one is sampled. Micro-batch `m` of
/// the run belongs to generation round `m / (steps_per_generation × num_iterations)`.
///
/// Everything a round depends on is either the policy's weights or checkpointed here
/// (`checkpointData`): how many prompts were used (the prompt order is the seed's epoch
/// permutation, as for batches), and the current generation batch itself, so a run resumed in the
/// middle of a round trains on the very rollouts the uninterrupted run did. Each round samples
/// from Philox streams keyed by the run's seed, the round and the attempt.
public final class RolloutLoop {
    /// The prompts.
    public let prompts: PromptDataset
    /// Sampling and reuse settings.
    public let settings: RolloutSettings
    /// The reward functions with their weights; the total is their weighted sum.
    public let rewards: [WeightedReward]
    /// The task's exact checker, scored on every rollout and logged as `gold_reward` beside the
    /// trained-on `reward`, never trained on (the reward-hacking probe); nil: not logged.
    public var goldReward: WeightedReward?
    /// Completions per micro-batch (`per_device_train_batch_size`).
    public let microBatchSize: Int
    /// Micro-batches per generation batch.
    public let stepsPerGeneration: Int
    /// Prompts per generation batch.
    public var promptsPerGeneration: Int { microBatchSize * stepsPerGeneration / settings.numGenerations }
    /// Micro-batches that read one generation batch (all its iterations).
    public var microBatchesPerRound: Int { stepsPerGeneration * settings.numIterations }
    /// Micro-batches in one pass over the prompts.
    public var microBatchesPerEpoch: Int { (prompts.examples.count + promptsPerGeneration - 1) / promptsPerGeneration * microBatchesPerRound }
    /// Fractional passes over the prompts so far.
    public var epoch: Double { Double(state.promptsConsumed) / Double(prompts.examples.count) }

    /// The ranks sharing the run: each samples and scores its share of every generation batch's
    /// prompts, and all then hold the whole batch (`sampleAndScore`).
    public let communicator: any Communicator
    let sampler: any CompletionSampling
    let tokenizer: Tokenizer
    let seed: UInt64
    let padID: Int32
    let computesOldLogprobs: Bool
    private var state = LoopState()
    private var current: (batch: RolloutBatch, metrics: [String: Double])?
    private var epochOrder: (epoch: Int, order: [Int])?

    /// A loop sampling from `model` (the policy itself, adapters installed) with `tokenizer`.
    /// `gradientAccumulationSteps` decides whether π_old needs its own pass: only when a generation
    /// batch outlives one optimizer step.
    public convenience init(model: LlamaModel, tokenizer: Tokenizer, prompts: PromptDataset, rewards: [WeightedReward], settings: RolloutSettings,
                            microBatchSize: Int, gradientAccumulationSteps: Int, seed: Int, padID: Int32,
                            communicator: any Communicator = SingleProcess()) throws {
        try self.init(sampler: RolloutSampler(model: model, tokenizer: tokenizer, settings: settings), tokenizer: tokenizer, prompts: prompts,
                      rewards: rewards, settings: settings, microBatchSize: microBatchSize, gradientAccumulationSteps: gradientAccumulationSteps,
                      seed: seed, padID: padID, communicator: communicator)
    }

    /// A loop drawing its completions from `sampler` (a scripted source in tests); `tokenizer`
    /// renders prompts that the loop edits (STaR's hints). `gradientAccumulationSteps` is per rank:
    /// a generation batch holds by default one step's completions over all ranks.
    public init(sampler: any CompletionSampling, tokenizer: Tokenizer, prompts: PromptDataset, rewards: [WeightedReward], settings: RolloutSettings,
                microBatchSize: Int, gradientAccumulationSteps perRank: Int, seed: Int, padID: Int32,
                communicator: any Communicator = SingleProcess()) throws {
        let gradientAccumulationSteps = perRank * communicator.worldSize
        guard !rewards.isEmpty else {
            throw TrainingError("on-policy training needs at least one reward function (--reward SPEC, e.g. --reward math-equiv)")
        }
        let spg = settings.stepsPerGeneration ?? gradientAccumulationSteps
        let generationBatch = microBatchSize * spg
        guard generationBatch % settings.numGenerations == 0 else {
            throw TrainingError("per_device_train_batch_size × steps_per_generation = \(microBatchSize) × \(spg) = \(generationBatch) completions " +
                                "must be a multiple of num_generations (\(settings.numGenerations)): a generation batch holds whole groups")
        }
        self.prompts = prompts
        self.settings = settings
        self.rewards = rewards
        self.microBatchSize = microBatchSize
        stepsPerGeneration = spg
        self.sampler = sampler
        self.tokenizer = tokenizer
        self.seed = UInt64(seed)
        self.padID = padID
        self.communicator = communicator
        computesOldLogprobs = settings.numIterations > 1 || spg > gradientAccumulationSteps
    }

    /// What `microBatch(at:)` hands the trainer.
    public struct MicroBatch {
        /// The rows to train on; nil when the generation batch has none left for this slot (dynamic
        /// sampling found fewer groups than asked).
        public var batch: RolloutBatch?
        /// The generation batch's metrics (rewards, lengths, generation speed).
        public var metrics: [String: Double]
        /// Seconds spent sampling, scoring and scoring log-probs in this call (0 when the batch was reused).
        public var generationSeconds: Double
        /// Why this micro-batch cannot be trained on (every reward nil, no group with a reward spread).
        public var problem: String?
    }

    /// Micro-batch `index` of the run, sampling a new generation batch when it starts a round.
    public func microBatch(at index: Int, policy: any TrainableLanguageModel, reference: (any TrainableLanguageModel)?,
                           objective: any Objective, step: Int) throws -> MicroBatch {
        let round = index / microBatchesPerRound
        var seconds = 0.0
        if state.round != round || current == nil {
            let started = Date()
            current = try generate(round: round, policy: policy, reference: reference, objective: objective, step: step)
            state.round = round
            seconds = Date().timeIntervalSince(started)
        }
        let (batch, metrics) = current!
        if batch.rowCount == 0 || batch.rewards.allSatisfy(\.isNaN) {
            let why = batch.rowCount == 0
                ? "dynamic sampling found no group whose rewards differ in \(settings.dynamicSamplingMaxRounds) sampling rounds"
                : "no reward function scored any of the \(batch.rowCount) completions of generation round \(round + 1) (every reward returned nil)"
            return MicroBatch(batch: nil, metrics: metrics, generationSeconds: seconds, problem: why)
        }
        let slot = (index % microBatchesPerRound) % stepsPerGeneration
        let lo = slot * microBatchSize, hi = min(batch.rowCount, lo + microBatchSize)
        return MicroBatch(batch: lo < hi ? batch.rows(lo..<hi) : nil, metrics: metrics, generationSeconds: seconds, problem: nil)
    }

    // MARK: - One generation round

    struct Group {
        var prompt: PromptExample
        var samples: [RolloutSampler.Sample]
        var rewards: [Float]
        var perFunction: [String: [Float?]]
        /// The gold verifier's scores (empty without one).
        var gold: [Float?] = []
    }

    private func generate(round: Int, policy: any TrainableLanguageModel, reference: (any TrainableLanguageModel)?,
                          objective: any Objective, step: Int) throws -> (RolloutBatch, [String: Double]) {
        let g = settings.numGenerations
        var kept: [Group] = [], sampled: [Group] = []
        var attempt = 0, dropped = 0, generatedTokens = 0
        var sampleSeconds = 0.0, rewardSeconds = 0.0
        repeat {
            let picked = (0..<(promptsPerGeneration - kept.count)).map { _ in nextPrompt() }
            let (scored, timing) = try sampleAndScore(picked, copies: g, seed: Self.streamSeed(seed, round: round, attempt: attempt), greedy: false)
            sampleSeconds += timing.sampling
            rewardSeconds += timing.scoring
            generatedTokens += timing.tokens
            for group in scored {
                sampled.append(group)
                if settings.dynamicSampling && Self.isConstant(group.rewards) { dropped += 1 } else { kept.append(group) }
            }
            attempt += 1
        } while settings.dynamicSampling && kept.count < promptsPerGeneration && attempt < settings.dynamicSamplingMaxRounds

        var rationalizationMetrics: [String: Double] = [:]
        if let star = (objective as? any RationalizingObjective)?.rationalization {
            let started = Date()
            rationalizationMetrics = try rationalize(&kept, star, round: round)
            rationalizationMetrics["timing/rationalization_seconds"] = Date().timeIntervalSince(started)
        }
        var batch = try assemble(kept)
        let baselineStarted = Date()
        if objective.needsGreedyBaseline, !kept.isEmpty {
            let scores = try sampleAndScore(kept.map(\.prompt), copies: 1, seed: 0, greedy: true).groups.map { $0.rewards[0] }
            batch.baselineRewards = scores.flatMap { Array(repeating: $0, count: g) }
        }
        let logprobsStarted = Date()
        var prepareStarted = logprobsStarted
        if batch.rowCount > 0 {
            if computesOldLogprobs { batch.oldLogprobs = try logprobs(of: policy, batch) }
            if objective.needsReference {
                guard let reference else {
                    throw TrainingError("objective '\(type(of: objective).name)' needs a reference model, and the trainer has none")
                }
                batch.referenceLogprobs = try logprobs(of: reference, batch)
            }
            prepareStarted = Date()
            try withNoGrad { try objective.prepare(&batch, context: ObjectiveContext(policy: policy, reference: reference, step: step)) }
        }
        let finished = Date()
        var metrics = Self.metrics(sampled: sampled, rewards: rewards.map(\.name), generatedTokens: generatedTokens, seconds: sampleSeconds)
        if let gold = GoldReward.mean(sampled.flatMap(\.gold)) { metrics[GoldReward.metricKey] = gold }
        // Where a round's time goes, for profiling (`temper-bench grpo` prints these per phase).
        metrics["timing/generation_seconds"] = sampleSeconds
        metrics["timing/reward_seconds"] = rewardSeconds
        metrics["timing/greedy_baseline_seconds"] = logprobsStarted.timeIntervalSince(baselineStarted)
        metrics["timing/logprob_passes_seconds"] = prepareStarted.timeIntervalSince(logprobsStarted)
        metrics["timing/prepare_seconds"] = finished.timeIntervalSince(prepareStarted)
        if settings.dynamicSampling { metrics["dynamic_sampling/dropped_groups"] = Double(dropped) }
        metrics.merge(rationalizationMetrics) { _, new in new }
        return (batch, metrics)
    }

    /// STaR's rationalization of the groups none of whose completions reached `star.threshold`:
    /// `num_generations` completions of the prompt with its answer as a hint, scored against the
    /// original row, replace the group's samples; the group keeps its original prompt, so the
    /// objective trains on them without the hint. Returns how many groups were hinted
    /// (`rationalization/hinted_groups`) and how many of those then had a completion reaching the
    /// threshold (`rationalization/rescued_groups`). The round's sampling metrics stay those of
    /// the unhinted samples: they measure the policy, not the hint.
    private func rationalize(_ groups: inout [Group], _ star: Rationalization, round: Int) throws -> [String: Double] {
        let failed = groups.indices.filter { i in !groups[i].rewards.contains { $0 >= star.threshold } }
        var rescued = 0
        if !failed.isEmpty {
            // Cut like the prompts were (the last max_prompt_length tokens), so the hint survives.
            let hinted = try failed.map { i -> [Int32] in
                let ids = try star.hintedIDs(groups[i].prompt, tokenizer: tokenizer, file: prompts.file)
                return settings.maxPromptLength.map { Array(ids.suffix($0)) } ?? ids
            }
            // An attempt number dynamic sampling never uses: the hinted samples draw from their own streams.
            let scored = try sampleAndScore(failed.map { groups[$0].prompt }, sampling: hinted, copies: settings.numGenerations,
                                            seed: Self.streamSeed(seed, round: round, attempt: settings.dynamicSamplingMaxRounds), greedy: false).groups
            for (k, i) in failed.enumerated() {
                groups[i].samples = scored[k].samples
                groups[i].rewards = scored[k].rewards
                groups[i].perFunction = scored[k].perFunction
                if scored[k].rewards.contains(where: { $0 >= star.threshold }) { rescued += 1 }
            }
        }
        return ["rationalization/hinted_groups": Double(failed.count), "rationalization/rescued_groups": Double(rescued)]
    }

    /// The next prompt of the stream: epoch after epoch, each in the seed's order.
    private func nextPrompt() -> PromptExample {
        let n = prompts.examples.count
        let epoch = state.promptsConsumed / n
        if epochOrder?.epoch != epoch { epochOrder = (epoch, EpochOrder.permutation(count: n, seed: seed, epoch: epoch)) }
        let example = prompts.examples[epochOrder!.order[state.promptsConsumed % n]]
        state.promptsConsumed += 1
        return example
    }

    /// Where a `sampleAndScore` call spent its time, and the tokens it generated: under several
    /// ranks the job's (all ranks' tokens, the slowest rank's sampling time), scoring this rank's.
    struct SamplingTiming {
        var sampling = 0.0, scoring = 0.0
        var tokens = 0
    }

    /// `copies` completions of each prompt of `picked` (sampled from `sampling`'s ids when given,
    /// else the prompts' own), scored: the groups of all the prompts, on every rank.
    ///
    /// Under several ranks each rank samples and scores only its contiguous share of the prompts,
    /// with the per-row random streams a single process would give those rows (the generator keys
    /// row r's stream by seed + r·φ, so a share starting at row r₀ samples with the seed moved by
    /// r₀·φ), then the groups are gathered in rank order: every rank holds the batch one process
    /// would have sampled, and the group statistics (GRPO) and batch normalizations (REINFORCE++)
    /// of `prepare` see all of it. A rank whose reward failed makes every rank throw its error.
    func sampleAndScore(_ picked: [PromptExample], sampling ids: [[Int32]]? = nil, copies: Int, seed: UInt64,
                        greedy: Bool) throws -> (groups: [Group], timing: SamplingTiming) {
        var timing = SamplingTiming()
        let mine = communicator.share(of: picked.count)
        let local: Result<[Group], Error>
        do {
            let started = Date()
            let prompts = Array((ids ?? picked.map(\.ids))[mine])
            let samples = prompts.isEmpty ? []
                : try sampler.sample(prompts: prompts, copies: copies, seed: Generator.rowSeed(seed, offset: mine.lowerBound * copies), greedy: greedy)
            timing.sampling = Date().timeIntervalSince(started)
            timing.tokens = samples.reduce(0) { $0 + $1.ids.count }
            let scoring = Date()
            local = .success(try score(Array(picked[mine]), samples, copies: copies))
            timing.scoring = Date().timeIntervalSince(scoring)
        } catch {
            guard communicator.worldSize > 1 else { throw error }
            local = .failure(error)
        }
        guard communicator.worldSize > 1 else { return (try local.get(), timing) }
        let shared: SharedGroups
        switch local {
        case .success(let groups): shared = SharedGroups(groups: groups.map(SharedGroup.init), samplingSeconds: timing.sampling)
        case .failure(let error): shared = SharedGroups(error: "\(error)")
        }
        let parts = try communicator.allGather(shared)
        if let failed = parts.enumerated().first(where: { $0.element.error != nil }), let message = failed.element.error {
            throw TrainingError(failed.offset == communicator.rank ? message : "rank \(failed.offset): \(message)")
        }
        // Prompts do not travel: every rank has them, and a group's is found by its place in its rank's share.
        let groups = parts.enumerated().flatMap { rank, part -> [Group] in
            let share = RankShares.range(of: picked.count, rank: rank, worldSize: communicator.worldSize)
            return zip(share, part.groups).map { p, g in g.group(prompt: picked[p]) }
        }
        // The ranks sample at once: the job's speed is all tokens over the slowest rank's time.
        timing.sampling = parts.map(\.samplingSeconds).max() ?? timing.sampling
        timing.tokens = groups.reduce(0) { $0 + $1.samples.reduce(0) { $0 + $1.ids.count } }
        return (groups, timing)
    }

    /// Scores `samples` (`copies` per prompt, prompt-major) with every reward function; the total is
    /// the weighted sum of the scores that are not nil, NaN when every function returned nil.
    private func score(_ picked: [PromptExample], _ samples: [RolloutSampler.Sample], copies: Int? = nil) throws -> [Group] {
        let g = copies ?? settings.numGenerations
        let repeated = picked.flatMap { Array(repeating: $0, count: g) }
        var columns: [String: [ColumnValue]] = [:]
        for name in prompts.columnNames { columns[name] = repeated.map { $0.columns[name] ?? .null } }
        let batch = RewardBatch(prompts: repeated.map(\.text), completions: samples.map(\.text),
                                completionTokenIDs: samples.map(\.ids), columns: columns)
        var totals = [Float?](repeating: nil, count: samples.count)
        var perFunction: [String: [Float?]] = [:]
        for term in rewards {
            let scores: [Float?]
            do { scores = try term.reward.score(batch) } catch {
                let lines = picked.map { String($0.line) }.joined(separator: ", ")
                throw TrainingError("reward '\(term.name)' failed on completions of the prompts at \(prompts.file) lines \(lines): \(error)")
            }
            guard scores.count == samples.count else {
                throw TrainingError("reward '\(term.name)' returned \(scores.count) scores for \(samples.count) completions")
            }
            perFunction[term.name] = scores
            for (i, s) in scores.enumerated() { if let s { totals[i] = (totals[i] ?? 0) + term.weight * s } }
        }
        var gold: [Float?] = []
        if let goldReward {
            do { gold = try goldReward.reward.score(batch) } catch {
                let lines = picked.map { String($0.line) }.joined(separator: ", ")
                throw TrainingError("gold_reward '\(goldReward.name)' failed on completions of the prompts at \(prompts.file) lines \(lines): \(error)")
            }
            guard gold.count == samples.count else {
                throw TrainingError("gold_reward '\(goldReward.name)' returned \(gold.count) scores for \(samples.count) completions")
            }
        }
        return picked.indices.map { p in
            let rows = (p * g)..<((p + 1) * g)
            return Group(prompt: picked[p], samples: Array(samples[rows]), rewards: totals[rows].map { $0 ?? .nan },
                         perFunction: perFunction.mapValues { Array($0[rows]) }, gold: gold.isEmpty ? [] : Array(gold[rows]))
        }
    }

    /// The groups as one batch: prompts left-padded to the longest, completions right-padded, so
    /// every completion starts in the same column.
    private func assemble(_ groups: [Group]) throws -> RolloutBatch {
        let rows = groups.flatMap { group in group.samples.map { (group.prompt.ids, $0) } }
        let promptWidth = rows.map(\.0.count).max() ?? 0, completionWidth = max(1, rows.map(\.1.ids.count).max() ?? 0)
        let width = promptWidth + completionWidth
        var ids = [Int32](), attention = [Float](), completion = [Float]()
        for (prompt, sample) in rows {
            let padLeft = promptWidth - prompt.count, padRight = completionWidth - sample.ids.count
            ids += Array(repeating: padID, count: padLeft) + prompt + sample.ids + Array(repeating: padID, count: padRight)
            attention += Array(repeating: 0, count: padLeft) + Array(repeating: 1, count: prompt.count + sample.ids.count)
                + Array(repeating: 0, count: padRight)
            completion += Array(repeating: 0, count: padLeft + prompt.count) + Array(repeating: 1, count: sample.ids.count)
                + Array(repeating: 0, count: padRight)
        }
        let n = rows.count
        var perFunction: [String: [Float?]] = [:]
        for name in rewards.map(\.name) { perFunction[name] = groups.flatMap { $0.perFunction[name] ?? [] } }
        return RolloutBatch(inputIDs: Tensor(shape: [n, width], int32: ids), attentionMask: Tensor(shape: [n, width], scalars: attention),
                            completionMask: Tensor(shape: [n, width], scalars: completion),
                            groupIndex: groups.indices.flatMap { Array(repeating: $0, count: groups[$0].samples.count) },
                            rewards: groups.flatMap(\.rewards), rewardsPerFunction: perFunction,
                            truncated: groups.flatMap { $0.samples.map(\.truncated) },
                            temperature: settings.temperature, maxCompletionLength: settings.maxCompletionLength)
    }

    /// log π(y_t | ·) of every completion token under `model`, without gradients and in eval mode,
    /// a micro-batch at a time. Under several ranks each scores its contiguous share of the
    /// micro-batches and the floats are gathered in rank order: the same micro-batches through the
    /// same weights, so the batch is one process's to the bit.
    private func logprobs(of model: any TrainableLanguageModel, _ batch: RolloutBatch) throws -> Tensor {
        let starts = Array(stride(from: 0, to: batch.rowCount, by: microBatchSize))
        var mine: [Float] = []
        try withNoGrad {
            try withEvalMode {
                for lo in starts[communicator.share(of: starts.count)] {
                    let part = batch.rows(lo..<min(batch.rowCount, lo + microBatchSize))
                    mine += try CompletionLogProbs.compute(model: model, inputIDs: part.inputIDs, attentionMask: part.attentionMask,
                                                           mask: part.completionMask, temperature: batch.temperature).logprobs.scalars
                }
            }
        }
        guard communicator.worldSize > 1 else { return Tensor(shape: batch.inputIDs.shape, scalars: mine) }
        let parts = try communicator.allGather(mine.withUnsafeBytes { Array($0) })
        let all = parts.flatMap { bytes in
            bytes.withUnsafeBytes { raw in (0..<(raw.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
        }
        guard all.count == batch.inputIDs.count else {
            throw TrainingError("rank \(communicator.rank): the ranks' log-probabilities hold \(all.count) floats for a batch of \(batch.inputIDs.shape)")
        }
        return Tensor(shape: batch.inputIDs.shape, scalars: all)
    }

    /// Whether a group's scored rewards are all equal (what dynamic sampling drops).
    static func isConstant(_ rewards: [Float]) -> Bool {
        Advantages.constantGroups(rewards, groupIndex: Array(repeating: 0, count: rewards.count)).contains(0)
    }

    /// TRL's generation metrics: reward mean/std in total and per function, the share of groups with
    /// no reward spread, completion lengths and the truncated share, and sampling speed.
    static func metrics(sampled: [Group], rewards names: [String], generatedTokens: Int, seconds: Double) -> [String: Double] {
        var m: [String: Double] = [:]
        let totals = sampled.flatMap(\.rewards)
        var total = RewardStatistics()
        for r in totals { total.add(r.isNaN ? nil : r) }
        m["reward"] = total.mean ?? .nan
        m["reward_std"] = total.std ?? .nan
        for name in names {
            var s = RewardStatistics()
            for group in sampled { for v in group.perFunction[name] ?? [] { s.add(v) } }
            m["rewards/\(name)/mean"] = s.mean ?? .nan
            m["rewards/\(name)/std"] = s.std ?? .nan
        }
        let groupIndex = sampled.indices.flatMap { Array(repeating: $0, count: sampled[$0].rewards.count) }
        m["frac_reward_zero_std"] = Advantages.zeroStdGroupShare(totals, groupIndex: groupIndex)
        let lengths = sampled.flatMap { $0.samples.map { Double($0.ids.count) } }
        if !lengths.isEmpty {
            m["completions/mean_length"] = lengths.reduce(0, +) / Double(lengths.count)
            m["completions/max_length"] = lengths.max()!
            m["completions/min_length"] = lengths.min()!
            m["completions/clipped_ratio"] = Double(sampled.flatMap { $0.samples.filter(\.truncated) }.count) / Double(lengths.count)
        }
        m["completions/tokens_per_second"] = Double(generatedTokens) / max(seconds, 1e-9)
        return m
    }

    /// The seed of round `round`'s attempt `attempt`: SplitMix64 over the three, so no two rounds'
    /// per-row streams (seed + row·φ in the generator) coincide.
    static func streamSeed(_ seed: UInt64, round: Int, attempt: Int) -> UInt64 {
        var z = seed &+ UInt64(round) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(attempt) &* 0xD1B5_4A32_D192_ED03
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    // MARK: - Checkpoints

    /// File name of the loop's state inside a checkpoint.
    public static let checkpointFileName = "rollout_state.json"

    /// The loop's state for a checkpoint: prompts used, and the current generation batch (bit-exact).
    public func checkpointData() throws -> Data {
        var saved = state
        saved.buffer = try current.map { try SavedRollouts($0.batch, metrics: $0.metrics) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try encoder.encode(saved)
    }

    /// Restores what `checkpointData` saved; errors name `source`.
    public func restore(_ data: Data, source: String) throws {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let saved: LoopState
        do { saved = try decoder.decode(LoopState.self, from: data) } catch {
            throw TrainingError("\(source): not a valid \(Self.checkpointFileName) (\(error))")
        }
        state = saved
        current = saved.buffer.map { ($0.batch(), $0.metrics) }
        state.buffer = nil
        epochOrder = nil
    }
}

/// What the loop checkpoints.
struct LoopState: Codable {
    var promptsConsumed = 0
    /// The round the current generation batch belongs to.
    var round: Int? = nil
    var buffer: SavedRollouts? = nil
}

/// A rollout batch in JSON, floats as their bit patterns so it reloads bit for bit.
struct SavedRollouts: Codable {
    struct Floats: Codable {
        var shape: [Int]
        var bits: [UInt32]
        init(_ t: Tensor) throws {
            guard t.dtype == .float32 else { throw TrainingError("rollout checkpoint: a \(t.dtype) tensor cannot be saved; rollout tensors are float32") }
            shape = t.shape
            bits = t.scalars.map(\.bitPattern)
        }
        var tensor: Tensor { Tensor(shape: shape, scalars: bits.map(Float.init(bitPattern:))) }
    }
    var shape: [Int]
    var inputIDs: [Int32]
    var attentionMask, completionMask: Floats
    var groupIndex: [Int]
    var rewards: [UInt32]
    var rewardsPerFunction: [String: [UInt32?]]
    var baselineRewards: [UInt32]?
    var oldLogprobs, referenceLogprobs: Floats?
    var truncated: [Bool]
    var extra: [String: Floats]
    var temperature: UInt32
    var maxCompletionLength: Int
    var metrics: [String: Double]

    init(_ b: RolloutBatch, metrics: [String: Double]) throws {
        shape = b.inputIDs.shape
        inputIDs = b.inputIDs.int32Values
        attentionMask = try Floats(b.attentionMask)
        completionMask = try Floats(b.completionMask)
        groupIndex = b.groupIndex
        rewards = b.rewards.map(\.bitPattern)
        rewardsPerFunction = b.rewardsPerFunction.mapValues { $0.map { $0?.bitPattern } }
        baselineRewards = b.baselineRewards?.map(\.bitPattern)
        oldLogprobs = try b.oldLogprobs.map(Floats.init)
        referenceLogprobs = try b.referenceLogprobs.map(Floats.init)
        truncated = b.truncated
        extra = try b.extra.mapValues(Floats.init)
        temperature = b.temperature.bitPattern
        maxCompletionLength = b.maxCompletionLength
        self.metrics = metrics
    }

    func batch() -> RolloutBatch {
        RolloutBatch(inputIDs: Tensor(shape: shape, int32: inputIDs), attentionMask: attentionMask.tensor, completionMask: completionMask.tensor,
                     groupIndex: groupIndex, rewards: rewards.map(Float.init(bitPattern:)),
                     rewardsPerFunction: rewardsPerFunction.mapValues { $0.map { $0.map(Float.init(bitPattern:)) } },
                     baselineRewards: baselineRewards?.map(Float.init(bitPattern:)),
                     oldLogprobs: oldLogprobs?.tensor, referenceLogprobs: referenceLogprobs?.tensor, truncated: truncated,
                     extra: extra.mapValues(\.tensor), temperature: Float(bitPattern: temperature), maxCompletionLength: maxCompletionLength)
    }
}

/// One rank's share of a sampling call, as it travels between ranks: its groups, or its error.
struct SharedGroups: Codable {
    var groups: [SharedGroup] = []
    /// The rank's sampling seconds.
    var samplingSeconds = 0.0
    var error: String? = nil
}

/// A scored group without its prompt (every rank has the prompts): samples and rewards, rewards as
/// bit patterns so the gathered batch is bit-identical to the sampling rank's.
struct SharedGroup: Codable {
    var ids: [[Int32]]
    var texts: [String]
    var truncated: [Bool]
    var rewards: [UInt32]
    var perFunction: [String: [UInt32?]]
    /// The gold verifier's scores (empty without one), logged as `gold_reward` by rank 0.
    var gold: [UInt32?]

    init(_ g: RolloutLoop.Group) {
        ids = g.samples.map(\.ids)
        texts = g.samples.map(\.text)
        truncated = g.samples.map(\.truncated)
        rewards = g.rewards.map(\.bitPattern)
        perFunction = g.perFunction.mapValues { $0.map { $0?.bitPattern } }
        gold = g.gold.map { $0?.bitPattern }
    }

    func group(prompt: PromptExample) -> RolloutLoop.Group {
        RolloutLoop.Group(prompt: prompt, samples: ids.indices.map { RolloutSampler.Sample(ids: ids[$0], text: texts[$0], truncated: truncated[$0]) },
                          rewards: rewards.map(Float.init(bitPattern:)), perFunction: perFunction.mapValues { $0.map { $0.map(Float.init(bitPattern:)) } },
                          gold: gold.map { $0.map(Float.init(bitPattern:)) })
    }
}
