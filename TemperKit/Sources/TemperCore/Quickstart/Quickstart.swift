import Foundation

/// `temper quickstart`: the survey's pipeline — supervised fine-tuning, then reinforcement learning
/// with a verifiable reward, then test-time search — measured on a model small enough to train in
/// minutes on two cores, with nothing to download, and the three challenges beside it.
///
/// Per seed it builds a tiny Llama (the same architecture as SmolLM2) over a character tokenizer
/// with a ChatML template (or loads `settings.model`), evaluates it, trains it with `sft` on worked
/// solutions of a built-in verifiable task, evaluates, trains it with `grpo` and the task's reward,
/// and evaluates again. By default a share of the SFT solutions carry the task's typical slip
/// (`flawed_demonstrations`): SFT imitates it and the verifier-rewarded GRPO stage has an error to
/// remove — RL correcting an imperfect teacher, not a model better than clean data would give. Every training stage goes through `TrainingSession` (plugins, recipe
/// fields, checkpoints, metrics.jsonl with `general_perplexity`, and `gold_reward` for GRPO) and
/// every evaluation through `SearchSweep` and the search plugins (`QuickstartEvaluation`). The
/// result is one table of stage × metric, mean ± spread over seeds, also in `quickstart.json`.
public struct Quickstart {
    /// The settings.
    public let settings: Settings

    /// A quickstart with `settings`.
    public init(settings: Settings = Settings()) { self.settings = settings }

    /// The outcome.
    public struct Result {
        /// The table and where every run is (also written to `quickstart.json`).
        public var summary: QuickstartSummary
        /// Forgetting: mean over seeds of each training stage's general-text perplexity before and after.
        public var forgetting: [(stage: String, before: Double, after: Double)]
        /// The proxy and gold reward at the start and end of a reward-hacking run (`hackCurves`), and its steps.
        public typealias Hack = (proxyStart: Double, proxyEnd: Double, goldStart: Double, goldEnd: Double, steps: Int)
        /// Reward hacking: the `--hack` run's curve ends.
        public var hack: Hack?
        /// Wall-clock seconds.
        public var seconds: Double
    }

    /// Runs the pipeline; `say` receives the narrative lines, `progress` a line on what runs now
    /// (training steps go to `reporter`).
    public func run(registry: ComponentRegistry = .shared, reporter: ProgressReporter? = ProgressReporter(),
                    progress: @escaping (String) -> Void = { _ in }, say: (String) -> Void) throws -> Result {
        let s = settings
        let started = Date()
        let out = URL(fileURLWithPath: s.outputDir)
        let wantsSFT = s.stages.contains(.sft), wantsGRPO = s.stages.contains(.grpo), search = s.stages.contains(.search)
        // Every component is resolved before any work, the training objectives first (a temper
        // without its plugin libraries then says so at once).
        if wantsSFT || s.hack { _ = try registry.make(ComponentSpec(name: "sft"), kind: .objective, as: (any Objective).self) }
        if wantsGRPO || s.hack { _ = try registry.make(ComponentSpec(name: "grpo"), kind: .objective, as: (any Objective).self) }
        if s.hack && !wantsSFT { throw SpecError("quickstart: --hack trains from the SFT model; keep sft in --stages") }
        for name in ["greedy"] + (search ? ["self-consistency", "best-of-n"] : []) { _ = try registry.search(name) }

        let data = try QuickstartData(taskSpec: s.task, trainCount: s.trainProblems, heldOutCount: s.heldOut,
                                      flawedShare: s.flawedDemonstrations, folder: out.appendingPathComponent("data"), lowerCaseGeneralText: s.model == nil)
        let taskReward = data.task.reward
        let grader = RewardSum([try registry.reward(taskReward)])
        if s.hack { _ = try registry.reward(s.hackProxy) }
        let evaluation = QuickstartEvaluation(data: data, reward: grader, samples: s.searchSamples, temperature: Float(s.temperature),
                                              maxNewTokens: s.maxNewTokens)
        let example = data.train[0]
        say("task: \(s.task), graded by \(taskReward); e.g. user \"\(example.prompt)\" → assistant \"\(example.solution.replacingOccurrences(of: "\n", with: " / "))\"; " +
            "\(data.train.count) training problems, \(data.heldOut.count) held out (\(data.heldOutFile.deletingLastPathComponent().path))")
        var demonstrations: String?
        if s.flawedDemonstrations > 0 {
            if let flaw = (data.task as? any FlawedDemonstrations)?.flaw {
                demonstrations = "SFT trained on deliberately flawed demonstrations: \(data.flawedCount) of the \(data.flawable) solutions that could have it " +
                    "show \(flaw) and a wrong answer (flawed_demonstrations \(s.flawedDemonstrations)); GRPO's reward and every evaluation grade the true answer"
                say(demonstrations!)
            } else {
                say("flawed demonstrations: none; \(type(of: data.task).name) has no slip to give them (flawed_demonstrations applies to long-addition), " +
                    "so every SFT solution is correct")
            }
        }

        let stages = ["base"] + (wantsSFT ? ["sft"] : []) + (wantsGRPO ? ["grpo"] : [])
        var figures: [String: [[String: Double]]] = [:]   // stage → per seed
        var runs: [String: String] = [:]
        var forgetting: [String: [(Double, Double)]] = [:]
        var hack: Result.Hack?
        for seed in 0..<s.seeds {
            let here = "seed-\(seed)"
            let pretrained = try makeModel(seed: seed, folder: out)
            if seed == 0 {
                say("model: \(s.model ?? "built-in Llama"), \(pretrained.model.config.numHiddenLayers) layers, hidden \(pretrained.model.config.hiddenSize), " +
                    "vocabulary \(pretrained.tokenizer.vocabularySize), \(pretrained.model.parameterCount) parameters")
            }
            func evaluate(_ stage: String) throws {
                let name = "\(here)/eval-\(stage)"
                progress("\(name): evaluating")
                let values = try evaluation.run(pretrained, seed: UInt64(seed), search: search, folder: out.appendingPathComponent(name),
                                                registry: registry) { progress("\(name): \($0)") }
                figures[stage, default: []].append(values)
                runs[name] = name
                say("\(name): " + QuickstartEvaluation.columns(samples: s.searchSamples, search: search).compactMap { c in
                    values[c].map { c == "tokens/answer" ? String(format: "%@ %.1f", c, $0) : String(format: "%@ %.1f%%", c, 100 * $0) }
                }.joined(separator: ", "))
            }
            try evaluate("base")
            if wantsSFT {
                let run = "\(here)/sft"
                try train(pretrained, run: run, in: out, data: data, fields: sftFields(s, data: data, seed: seed), reporter: reporter, registry: registry,
                          say: say, forgetting: &forgetting["sft", default: []])
                runs[run] = run
                try evaluate("sft")
                if s.hack && seed == 0 {
                    let copy = PretrainedModel(model: try pretrained.model.frozenCopy(), tokenizer: pretrained.tokenizer, source: pretrained.source)
                    var unused: [(Double, Double)] = []
                    try train(copy, run: "\(here)/hack", in: out, data: data,
                              fields: grpoFields(s, data: data, seed: seed, reward: s.hackProxy, steps: s.hackSteps), reporter: reporter,
                              registry: registry, say: say, forgetting: &unused)
                    hack = try Self.hackCurves(out.appendingPathComponent("\(here)/hack/metrics.jsonl"))
                    runs["\(here)/hack"] = "\(here)/hack"
                }
            }
            if wantsGRPO {
                let run = "\(here)/grpo"
                try train(pretrained, run: run, in: out, data: data, fields: grpoFields(s, data: data, seed: seed, reward: taskReward, steps: s.grpoSteps),
                          reporter: reporter, registry: registry, say: say, forgetting: &forgetting["grpo", default: []])
                runs[run] = run
                try evaluate("grpo")
            }
            if seed == 0, s.model == nil {
                try QuickstartModelFolder.write(pretrained.model, tokenizer: CharacterChatTokenizer.definition(), to: out.appendingPathComponent("model"))
            }
        }

        let columns = QuickstartEvaluation.columns(samples: s.searchSamples, search: search)
        let rows = stages.map { stage in
            QuickstartSummary.Row(stage: stage, values: Dictionary(uniqueKeysWithValues: columns.map { c in
                (c, QuickstartSummary.Cell(figures[stage, default: []].map { $0[c] ?? .nan }))
            }))
        }
        let summary = QuickstartSummary(task: s.task, seeds: Array(0..<s.seeds), stages: stages, columns: columns, rows: rows, runs: runs,
                                        hack: hack.map { _ in QuickstartSummary.Hack(proxy: s.hackProxy, run: "seed-0/hack") },
                                        demonstrations: wantsSFT ? demonstrations : nil)
        try summary.write(to: out)
        let meanForgetting = ["sft", "grpo"].compactMap { stage -> (stage: String, before: Double, after: Double)? in
            guard let pairs = forgetting[stage], !pairs.isEmpty else { return nil }
            return (stage, MeanSpread(pairs.map(\.0)).mean, MeanSpread(pairs.map(\.1)).mean)
        }
        return Result(summary: summary, forgetting: meanForgetting, hack: hack, seconds: Date().timeIntervalSince(started))
    }

    /// The built-in tiny model with seed `seed`, or `settings.model` loaded afresh.
    private func makeModel(seed: Int, folder: URL) throws -> PretrainedModel {
        if let path = settings.model { return try PretrainedModel.load(from: URL(fileURLWithPath: path)) }
        let tokenizer = try CharacterChatTokenizer.make()
        let s = settings
        guard s.hiddenSize % s.heads == 0 else { throw SpecError("quickstart: heads (\(s.heads)) must divide hidden_size (\(s.hiddenSize))") }
        let config = ModelConfig(vocabSize: tokenizer.vocabularySize, hiddenSize: s.hiddenSize, intermediateSize: s.hiddenSize * 8 / 3,
                                 numHiddenLayers: s.layers, numAttentionHeads: s.heads, maxPositionEmbeddings: 256,
                                 eosTokenIds: tokenizer.eosTokenID.map { [Int($0)] } ?? [])
        return PretrainedModel(model: try LlamaModel(config: config, seed: UInt64(seed)), tokenizer: tokenizer, source: folder)
    }

    /// The recipe fields every training stage shares: full fine-tuning (every stage trains the same
    /// weights on), AdamW, one checkpoint at the end, the forgetting probe's text.
    private func commonFields(_ s: Settings, data: QuickstartData, seed: Int, steps: Int) -> [(String, String)] {
        [("peft", "full"), ("optimizer", "adamw:weight_decay=0.01"), ("max_steps", String(s.capped(steps))),
         ("save_steps", String(s.capped(steps))), ("save_total_limit", "1"), ("seed", String(seed))]
            + (data.generalTextFile.map { [("general_text_file", $0.path)] } ?? [])
    }

    /// SFT on the worked solutions (assistant turns only), cosine schedule with warmup.
    private func sftFields(_ s: Settings, data: QuickstartData, seed: Int) -> [(String, String)] {
        commonFields(s, data: data, seed: seed, steps: s.sftSteps) + [
            ("objective", "sft"), ("train_file", data.sftFile.path), ("learning_rate", String(s.sftLearningRate)),
            ("lr_scheduler_type", "cosine"), ("warmup_ratio", "0.05"), ("per_device_train_batch_size", String(s.sftBatchSize)),
            ("assistant_only_loss", "true"), ("max_length", String(s.maxLength)), ("logging_steps", String(max(1, s.capped(s.sftSteps) / 10))),
        ]
    }

    /// GRPO (TRL's defaults: beta 0, DAPO loss) trained on `reward`, the task's checker logged as
    /// `gold_reward`, every step logged.
    private func grpoFields(_ s: Settings, data: QuickstartData, seed: Int, reward: String, steps: Int) -> [(String, String)] {
        commonFields(s, data: data, seed: seed, steps: steps) + [
            ("objective", "grpo"), ("train_file", data.promptFile.path), ("rewards", reward), ("gold_reward", data.task.reward),
            ("learning_rate", String(s.grpoLearningRate)), ("lr_scheduler_type", "constant"), ("num_generations", String(s.numGenerations)),
            ("per_device_train_batch_size", String(s.promptsPerStep * s.numGenerations)), ("max_completion_length", String(s.maxNewTokens)),
            ("temperature", String(s.temperature)), ("logging_steps", "1"),
        ]
    }

    /// One training stage through `TrainingSession` into `folder/run`, the trained weights written
    /// there as `temper train` writes them; its forgetting figures (read back from its metrics.jsonl)
    /// are said and appended to `forgetting`.
    private func train(_ pretrained: PretrainedModel, run: String, in folder: URL, data: QuickstartData, fields: [(String, String)],
                       reporter: ProgressReporter?, registry: ComponentRegistry, say: (String) -> Void,
                       forgetting: inout [(Double, Double)]) throws {
        var recipe = TrainingRecipe()
        let output = folder.appendingPathComponent(run)
        for (k, v) in fields + [("output_dir", output.path)] { try recipe.set(k, .text(v)) }
        let session = try TrainingSession(recipe: recipe, pretrained: pretrained, registry: registry, reporter: reporter)
        say("\(run): \(recipe.objective.name), \(try recipe.int("max_steps")) steps" +
            (recipe.rewards.isEmpty ? "" : ", reward \(recipe.rewards.map(\.description).joined(separator: " + ")), gold \(data.task.reward)"))
        let summary = try session.run()
        let log = try QuickstartRunMetrics.read(output.appendingPathComponent("metrics.jsonl"))
        var line = String(format: "%@: %d steps in %.0f s", run, summary.globalStep, summary.seconds)
        if let last = log.last(where: { $0["general_perplexity_change"] != nil }),
           let before = last["general_perplexity_before"], let after = last["general_perplexity"] {
            forgetting.append((before, after))
            line += String(format: "; general-text perplexity %.2f → %.2f (%+.2f)", before, after, after - before)
        }
        say(line)
    }

    /// The `--hack` run's proxy (`reward`) and gold (`gold_reward`) curves' ends: each the mean over
    /// the first and over the last fifth of the logged steps (at least one), so one noisy step of a
    /// few dozen rollouts does not decide the picture.
    static func hackCurves(_ metrics: URL) throws -> Result.Hack {
        let entries = try QuickstartRunMetrics.read(metrics).filter { $0["reward"] != nil && $0["gold_reward"] != nil }
        guard let last = entries.last else { throw SpecError("\(metrics.path): no step logged both reward and gold_reward") }
        let k = max(1, entries.count / 5)
        func mean(_ part: ArraySlice<[String: Double]>, _ key: String) -> Double { part.reduce(0) { $0 + $1[key]! } / Double(part.count) }
        return (mean(entries.prefix(k), "reward"), mean(entries.suffix(k), "reward"),
                mean(entries.prefix(k), "gold_reward"), mean(entries.suffix(k), "gold_reward"), Int(last["step"] ?? 0))
    }
}
