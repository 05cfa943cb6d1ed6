import ArgumentParser
import Foundation
import TemperCore
import TemperTensor

/// `temper-bench grpo`: one GRPO step on SmolLM2-135M-Instruct with LoRA (r=8, alpha 16, the seven
/// projections of every layer): 1 prompt × 4 completions of at most 64 new tokens sampled from the
/// policy with the batched decoder, scored by −|40 − len(completion)|/40, log-probs and the loss
/// over them, backward, AdamW. Seconds per step (best and median) and peak RSS — and, with a
/// reference Python, TRL's GRPOTrainer doing the same (`scripts/reference/grpo.py`, TRL's shape:
/// per_device_train_batch_size=4, num_generations=4, max_completion_length=64, beta=0) right after.
///
/// Prompts are "Write a short sentence about the number {i}." as chats, one per step. With beta=0
/// neither side builds a reference model; under LoRA Temper's reference would be the same weights
/// with the adapters off, so it would cost no memory either way.
struct GRPOBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "Seconds per GRPO step (SmolLM2, LoRA r=8, 1 prompt × 4 completions ≤ 64 tokens) and peak RSS, beside TRL's GRPOTrainer (target ≤ 3 s).")

    @OptionGroup var target: BenchmarkModelOptions
    @OptionGroup var timing: StepTimingOptions
    @OptionGroup(title: "Reference (TRL: needs torch, transformers, peft, trl, gguf)")
    var reference: ReferenceOptions
    @Flag(help: "Also time the phases of every decode step of the timed steps' generation (4 rows, LoRA unmerged), and the decode of 4 rows with the LoRA adapters in the shared-input pass, through each layer's own forward and switched off.")
    var profile = false

    /// Seconds of the fastest and the median timed step, and the process's peak RSS.
    struct Figures: Decodable {
        var best, median, peakRSSMB: Double
        enum CodingKeys: String, CodingKey {
            case best, median
            case peakRSSMB = "peak_rss_mb"
        }
    }

    func run() throws {
        print(loadAverageLine())
        let ours = try measure()
        print(String(format: "Temper: best %.2f s/step, median %.2f s/step; peak RSS %.0f MB", ours.best, ours.median, ours.peakRSSMB))
        var theirs: Figures? = nil
        if let python = reference.python(threads: timing.threads) {
            switch python.versions(of: ["torch", "transformers", "peft", "trl", "gguf"]) {
            case .success(let versions):
                print("reference: TRL GRPOTrainer (float32, LoRA r=8 all-linear, the same prompts and reward): \(versions)")
                switch python.result(Figures.self, of: "grpo.py", ["--model", target.model, "--threads", "\(timing.threads)", "--steps", "\(timing.steps)"]) {
                case .success(let f):
                    theirs = f
                    print(String(format: "TRL: best %.2f s/step, median %.2f s/step; peak RSS %.0f MB", f.best, f.median, f.peakRSSMB))
                case .failure(let problem): print("TRL failed: \(problem.message)")
                }
            case .failure(let problem): print("reference not run: \(problem.message)")
            }
        }
        print("")
        var table = Table(["", "best s/step", "median s/step", "peak RSS MB"])
        table.add(["Temper", String(format: "%.2f", ours.best), String(format: "%.2f", ours.median), String(format: "%.0f", ours.peakRSSMB)])
        if let t = theirs {
            table.add(["TRL", String(format: "%.2f", t.best), String(format: "%.2f", t.median), String(format: "%.0f", t.peakRSSMB)])
            table.add(["ratio", String(format: "%.2f× faster", t.best / ours.best), String(format: "%.2f× faster", t.median / ours.median),
                       String(format: "%.2f×", ours.peakRSSMB / t.peakRSSMB)])
        }
        table.print()
        print("target: ≤ 3 s per step")
        if theirs == nil { print("note: no comparison in this run; \(ReferencePython.howToCompare)") }
    }

    /// User plus system CPU time of the process (all threads) so far: on a shared machine, what a
    /// step costs apart from waiting for a core.
    static func processCPUSeconds() -> Double { Double(clock()) / Double(CLOCKS_PER_SEC) }

    /// The reward of the benchmark: −|40 − characters| / 40.
    struct LengthTarget: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] { batch.completions.map { -abs(40 - Float($0.count)) / 40 } }
    }

    private func measure() throws -> Figures {
        Parallel.threadCount = timing.threads
        let report = PluginLoader.shared.load(.standard())
        for name in ["grpo", "lora", "adamw"] where ComponentRegistry.shared.descriptor(named: name) == nil {
            throw ValidationError("component \(name) is not registered (are the libTemperPlugin*.so files next to temper-bench?) \(report)")
        }
        let pm = try target.load()
        let peft = try ComponentRegistry.shared.peft("lora:r=8,lora_alpha=16,target_modules=all-linear")
        _ = try peft.apply(to: pm.model)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("temper-bench-grpo-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let prompts = dir.appendingPathComponent("prompts.jsonl")
        let lines = (0..<(timing.steps + 1)).map { #"{"prompt": [{"role": "user", "content": "Write a short sentence about the number \#($0)."}]}"# }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: prompts)
        var settings = RolloutSettings()
        settings.numGenerations = 4
        settings.maxCompletionLength = 64
        var config = TrainerConfig(outputDir: dir.appendingPathComponent("run"))
        config.perDeviceTrainBatchSize = 4
        config.maxSteps = timing.steps + 1
        config.saveSteps = 1_000_000
        config.loggingSteps = 1
        config.lrSchedulerType = .constant
        let pad = pm.tokenizer.padTokenID ?? pm.tokenizer.eosTokenID ?? 0
        let loop = try RolloutLoop(model: pm.model, tokenizer: pm.tokenizer,
                                   prompts: try PromptDataset.load(path: prompts.path, tokenizer: pm.tokenizer),
                                   rewards: [WeightedReward(name: "length-40", reward: LengthTarget())], settings: settings,
                                   microBatchSize: 4, gradientAccumulationSteps: 1, seed: 1, padID: pad)
        let trainer = try Trainer(policy: pm.model, objective: try ComponentRegistry.shared.objective("grpo"),
                                  optimizer: try ComponentRegistry.shared.optimizer("adamw:lr=1e-6"), groups: peft.trainableGroups(),
                                  rollouts: loop, padID: pad, config: config)
        var times: [Double] = []
        // Matrix products are timed apart from the rest: the share of a step that faster GEMM
        // kernels can shrink, against the share that is this loop's own overhead.
        GEMMProfiler.isEnabled = true
        defer { GEMMProfiler.isEnabled = false }
        DecodeProfiler.reset()
        defer { DecodeProfiler.isEnabled = false }
        for step in 1...(timing.steps + 1) {
            GEMMProfiler.reset()
            DecodeProfiler.isEnabled = profile && step > 1
            let cpuBefore = Self.processCPUSeconds()
            let t = try seconds { try trainer.train(stopAfter: step) }
            let cpu = Self.processCPUSeconds() - cpuBefore, gemm = Double(GEMMProfiler.elapsedNanoseconds) / 1e9
            if step > 1 { times.append(t) }
            let m = trainer.state.logHistory.last ?? [:]
            let phases = ["generation", "reward", "logprob_passes", "prepare"].map { m["timing/\($0)_seconds"] ?? 0 }
            print(String(format: "  step %d: %.2f s = generation %.2f + rewards %.3f + old/ref log-probs %.2f + prepare %.3f + forward/backward/optimizer %.2f;" +
                         " matrix products %.2f s of it (%.0f %%); %.2f CPU-s (completions: mean length %.0f tokens; generation %.0f tok/s)",
                         step, t, phases[0], phases[1], phases[2], phases[3], t - phases.reduce(0, +), gemm, 100 * gemm / t, cpu,
                         m["completions/mean_length"] ?? .nan, m["completions/tokens_per_second"] ?? .nan))
        }
        if profile {
            Self.printDecodeProfile(DecodeProfiler.report)
            try Self.compareLoRADecodePaths(pm)
        }
        return Figures(best: times.min()!, median: median(times), peakRSSMB: Double(peakRSSKilobytes()) / 1024)
    }

    /// Hides an adapter's low-rank factors (`lowRankUpdate` stays nil), so its layer group runs
    /// each layer's own forward instead of the shared-input pass.
    private final class OwnForward: LinearAdapter {
        let inner: LinearAdapter
        init(_ inner: LinearAdapter) { self.inner = inner }
        func forward(_ x: Tensor, layer: Linear) -> Tensor { inner.forward(x, layer: layer) }
        var parameters: [NamedParameter] { inner.parameters }
    }

    /// What the policy's 210 LoRA adapters cost its decode, measured in this process: 4 rows of 30
    /// prompt tokens decoding 33 greedy tokens with the adapters in the shared-input pass, through
    /// each layer's own forward, and switched off — alternating, one warm-up round, best of 5.
    static func compareLoRADecodePaths(_ pm: PretrainedModel) throws {
        let layers = pm.model.layers.flatMap { [$0.selfAttn.qProj, $0.selfAttn.kProj, $0.selfAttn.vProj, $0.selfAttn.oProj,
                                                 $0.mlp.gateProj, $0.mlp.upProj, $0.mlp.downProj] }.filter { $0.adapter != nil }
        let installed = layers.map(\.adapter)
        defer { for (layer, adapter) in zip(layers, installed) { layer.adapter = adapter } }
        let variants: [(String, [LinearAdapter?])] = [
            ("LoRA, A in the shared-input pass", installed),
            ("LoRA, each layer's own forward", installed.map { $0.map { OwnForward($0) } }),
            ("no adapters", installed.map { _ in nil }),
        ]
        var rng = PhiloxRNG(seed: 5)
        let vocab = UInt32(pm.model.config.vocabSize - 100)
        let prompts = (0..<4).map { _ in (0..<30).map { _ in Int32(rng.next32() % vocab) + 100 } }
        let options = GenerationOptions(maxNewTokens: 33, temperature: 0)
        var best = [Double](repeating: .infinity, count: variants.count)
        for round in 0...5 {
            for (k, variant) in variants.enumerated() {
                for (layer, adapter) in zip(layers, variant.1) { layer.adapter = adapter }
                let s = try seconds { _ = try pm.generator.generate(prompts: prompts, options: options) }
                if round > 0 { best[k] = min(best[k], s) }
            }
        }
        print("  decode of 4 rows × 33 greedy tokens (prefill included), \(layers.count) adapters, best of 5 alternating runs:")
        var table = Table(["", "seconds", "tokens/s"])
        for (k, variant) in variants.enumerated() { table.add([variant.0, String(format: "%.3f", best[k]), String(format: "%.1f", 4 * 33 / best[k])]) }
        table.print()
    }

    /// Milliseconds per decode step by phase over the timed steps' generation, and each phase's share.
    static func printDecodeProfile(_ r: DecodeProfiler.Report) {
        let steps = Double(max(r.steps, 1)), total = Double(max(r.totalNanoseconds, 1))
        print("  decode steps of the timed generations (\(r.steps) steps of up to 4 rows; ms per step, share):")
        var table = Table(["phase", "ms/step", "share"])
        let rows = DecodeProfiler.Phase.allCases.map { ($0.label, r.nanoseconds[$0] ?? 0) } + [("rest (embedding, masks, stop checks, op overhead)", r.otherNanoseconds)]
        for (label, ns) in rows { table.add([label, String(format: "%.2f", Double(ns) / 1e6 / steps), String(format: "%.1f %%", 100 * Double(ns) / total)]) }
        table.add(["whole step", String(format: "%.2f", total / 1e6 / steps), "100 %"])
        table.print()
    }
}
