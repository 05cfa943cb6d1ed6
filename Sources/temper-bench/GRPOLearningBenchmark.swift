import ArgumentParser
import Foundation
import TemperCore

/// `temper-bench grpo-learning`: evidence that the on-policy loop learns, not just runs. Per seed,
/// a tiny Llama (the quickstart's: 3 layers, hidden 96, character vocabulary) is briefly SFT'd on
/// 2-digit addition chats, then trained with `grpo` and the `exact-match` reward on prompt-only
/// rows of the training problems; on problems neither stage saw, pass@1 is measured before and
/// after GRPO as METHODS.md §9 defines it — the mean exact-match accuracy of k = 8 samples per
/// problem at the training temperature — and, beside it, greedy exact match. Everything goes
/// through `TrainingSession` and the plugins, as `temper train` does.
struct GRPOLearningBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo-learning",
        abstract: "Held-out pass@1 of a quickly SFT'd tiny model before and after GRPO (exact-match reward), per seed, with mean and spread.")

    @Option(help: "Seeds, comma-separated (model, data and run).")
    var seeds = "1,2,3"
    @Option(name: .customLong("sft-steps"), help: "SFT steps before GRPO (batch 32).")
    var sftSteps = 600
    @Option(name: .customLong("grpo-steps"), help: "GRPO steps.")
    var grpoSteps = 100
    @Option(name: .customLong("grpo-lr"), help: "GRPO learning rate (AdamW, constant).")
    var grpoLR = 1e-4
    @Option(name: .customLong("num-generations"), help: "Completions per prompt.")
    var numGenerations = 8
    @Option(help: "Sampling temperature of the rollouts.")
    var temperature = 0.7
    @Option(name: .customLong("prompts-per-step"), help: "Prompts per GRPO step.")
    var promptsPerStep = 16
    @Option(help: "Where data and checkpoints go.")
    var output = "runs/grpo-learning"

    func run() throws {
        let seedList = try seeds.split(separator: ",").map { s -> Int in
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v >= 0 else { throw ValidationError("--seeds: '\(s)' is not a seed") }
            return v
        }
        let report = PluginLoader.shared.load(.standard())
        for name in ["sft", "grpo", "exact-match", "adamw", "full"] where ComponentRegistry.shared.descriptor(named: name) == nil {
            throw ValidationError("component \(name) is not registered (are the libTemperPlugin*.so files next to temper-bench?) \(report)")
        }
        print("task: 2-digit addition chats; SFT \(sftSteps) steps (batch 32, lr 3e-3), then GRPO \(grpoSteps) steps " +
              "(\(promptsPerStep) prompts × \(numGenerations) completions, exact-match reward, lr \(grpoLR), temperature \(temperature)); held-out pass@1 = mean exact match of 8 samples per problem at temperature \(temperature), 500 problems; greedy beside it")
        var rows: [(seed: Int, before: Double, after: Double, greedyBefore: Double, greedyAfter: Double, seconds: Double)] = []
        for seed in seedList {
            let r = try runSeed(seed)
            rows.append(r)
            print(String(format: "seed %d: pass@1 after SFT %.1f%% → after GRPO %.1f%% (%+.1f points); greedy %.1f%% → %.1f%%; GRPO %.0f s",
                         seed, 100 * r.before, 100 * r.after, 100 * (r.after - r.before), 100 * r.greedyBefore, 100 * r.greedyAfter, r.seconds))
        }
        let gains = rows.map { $0.after - $0.before }
        let mean = { (xs: [Double]) in xs.reduce(0, +) / Double(xs.count) }
        let spread = { (xs: [Double]) -> Double in
            let m = mean(xs)
            return xs.count > 1 ? (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count - 1)).squareRoot() : 0
        }
        print(String(format: "mean over %d seeds: pass@1 SFT %.1f%% ± %.1f → GRPO %.1f%% ± %.1f; gain %+.1f ± %.1f points (± = sample std)",
                     rows.count, 100 * mean(rows.map(\.before)), 100 * spread(rows.map(\.before)),
                     100 * mean(rows.map(\.after)), 100 * spread(rows.map(\.after)), 100 * mean(gains), 100 * spread(gains)))
        let greedyGains = rows.map { $0.greedyAfter - $0.greedyBefore }
        print(String(format: "greedy exact match: gain %+.1f ± %.1f points", 100 * mean(greedyGains), 100 * spread(greedyGains)))
    }

    private func runSeed(_ seed: Int) throws -> (seed: Int, before: Double, after: Double, greedyBefore: Double, greedyAfter: Double, seconds: Double) {
        let out = URL(fileURLWithPath: output).appendingPathComponent("seed-\(seed)")
        try? FileManager.default.removeItem(at: out)
        let tokenizer = try CharacterChatTokenizer.make()
        let config = ModelConfig(vocabSize: tokenizer.vocabularySize, hiddenSize: 96, intermediateSize: 256, numHiddenLayers: 3,
                                 numAttentionHeads: 4, maxPositionEmbeddings: 256, eosTokenIds: tokenizer.eosTokenID.map { [Int($0)] } ?? [])
        let model = try LlamaModel(config: config, seed: UInt64(seed))
        let pretrained = PretrainedModel(model: model, tokenizer: tokenizer, source: out)
        let task = try AdditionTask(digits: 2, trainCount: 3000, heldOutCount: 500, seed: UInt64(seed))
        let sftFile = out.appendingPathComponent("sft.jsonl")
        try AdditionTask.write(task.train, to: sftFile)
        try train(pretrained, [("train_file", sftFile.path), ("output_dir", out.appendingPathComponent("sft").path), ("objective", "sft"),
                               ("learning_rate", "3e-3"), ("lr_scheduler_type", "cosine"), ("warmup_ratio", "0.05"),
                               ("per_device_train_batch_size", "32"), ("max_steps", String(sftSteps)), ("assistant_only_loss", "true"),
                               ("max_length", "64"), ("seed", String(seed))])
        let greedyBefore = try AdditionTask.accuracy(of: model, tokenizer: tokenizer, on: task.heldOut).accuracy
        let before = try sampledPassAt1(model, tokenizer, task.heldOut, seed: seed)

        let promptFile = out.appendingPathComponent("prompts.jsonl")
        let lines = task.train.map { #"{"prompt": [{"role": "user", "content": "\#($0.question)"}], "answer": "\#($0.answer)"}"# }
        try AtomicFileWriter.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: promptFile)
        let started = Date()
        try train(pretrained, [("train_file", promptFile.path), ("output_dir", out.appendingPathComponent("grpo").path), ("objective", "grpo"),
                               ("rewards", "exact-match"), ("learning_rate", String(grpoLR)), ("lr_scheduler_type", "constant"),
                               ("num_generations", String(numGenerations)), ("per_device_train_batch_size", String(promptsPerStep * numGenerations)),
                               ("max_completion_length", "5"), ("max_steps", String(grpoSteps)), ("temperature", String(temperature)), ("logging_steps", "5"), ("seed", String(seed))])
        let seconds = Date().timeIntervalSince(started)
        let greedyAfter = try AdditionTask.accuracy(of: model, tokenizer: tokenizer, on: task.heldOut).accuracy
        let after = try sampledPassAt1(model, tokenizer, task.heldOut, seed: seed)
        return (seed, before, after, greedyBefore, greedyAfter, seconds)
    }

    /// Mean exact-match accuracy of 8 samples per problem at `temperature` (the same streams before
    /// and after, so the two measurements differ by the weights alone).
    private func sampledPassAt1(_ model: LlamaModel, _ tokenizer: Tokenizer, _ problems: [AdditionTask.Problem], seed: Int) throws -> Double {
        var settings = RolloutSettings()
        settings.temperature = Float(temperature)
        settings.maxCompletionLength = 5
        let sampler = RolloutSampler(model: model, tokenizer: tokenizer, settings: settings)
        let k = 8
        var correct = 0
        for start in stride(from: 0, to: problems.count, by: 50) {
            let chunk = Array(problems[start..<min(problems.count, start + 50)])
            let prompts = try chunk.map { try tokenizer.encodeChat([ChatMessage(role: "user", content: $0.question)], addGenerationPrompt: true) }
            let samples = try sampler.sample(prompts: prompts, copies: k, seed: UInt64(seed) &+ UInt64(start) &* 7919)
            for (i, s) in samples.enumerated() where s.text == chunk[i / k].answer { correct += 1 }
        }
        return Double(correct) / Double(problems.count * k)
    }

    /// One `TrainingSession` over the in-memory model (full fine-tuning, AdamW); it checkpoints only its last step.
    private func train(_ pretrained: PretrainedModel, _ fields: [(String, String)]) throws {
        var recipe = TrainingRecipe()
        for (k, v) in [("peft", "full"), ("optimizer", "adamw"), ("logging_steps", "1000000"), ("save_steps", "1000000")] + fields {
            try recipe.set(k, .text(v))
        }
        let session = try TrainingSession(recipe: recipe, pretrained: pretrained)
        try session.trainer.train()
    }
}
