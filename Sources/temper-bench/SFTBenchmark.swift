import ArgumentParser
import Foundation
import TemperCore

/// `temper-bench sft`: one SFT optimizer step (forward, backward, AdamW update) on SmolLM2-135M in
/// float32, batch 8 × 128 tokens, with LoRA (r=8, alpha=16, all seven projection types) and with full
/// fine-tuning: tokens/s and peak RSS, against the PyTorch + PEFT figures of the fine-tuning issue.
///
/// The objective, PEFT methods and optimizer come from the plugins, loaded as `temper` loads them.
/// Each method runs in a child process of its own, because peak RSS (VmHWM) is a per-process high-water
/// mark: measured in one process, full fine-tuning's figure would hide LoRA's.
struct SFTBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "SFT step tokens/s and peak RSS, LoRA and full fine-tuning (targets: LoRA ≥ 1.5× PyTorch+PEFT at ≤ 0.6× its memory; full ≥ 1.3×).")

    @Option(help: "A .gguf file or Hugging Face directory.")
    var model = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "lora, full, or both (each in its own process).")
    var method = "both"
    @Option(help: "Sequences per step.")
    var batch = 8
    @Option(name: .customLong("seq-len"), help: "Tokens per sequence.")
    var seqLen = 128
    @Option(help: "Threads.")
    var threads = 2
    @Option(help: "Timed steps after one warm-up step; the fastest counts.")
    var steps = 3
    @Option(name: .customLong("checkpoint-layers"),
            help: "Decoder layers to run under activation checkpointing (gradient_checkpointing_layers), for LoRA; full fine-tuning keeps all activations.")
    var checkpointLayers = 0

    /// PyTorch + PEFT on this machine kind (float32, 2 threads, batch 8 × 128), from the issue.
    static let reference: [String: (tokensPerSecond: Double, peakRSSMB: Double)] = [
        "lora": (126, 4.4 * 1024), "full": (100, 4.9 * 1024),
    ]
    /// The targets: minimum speed-up over PyTorch and, for LoRA, maximum memory ratio.
    static let targets: [String: (speedup: Double, memory: Double?)] = ["lora": (1.5, 0.6), "full": (1.3, nil)]

    static let peftSpecs = ["lora": "lora:r=8,alpha=16,target_modules=all-linear", "full": "full"]

    func validate() throws {
        guard ["lora", "full", "both"].contains(method) else { throw ValidationError("--method must be lora, full or both, got \(method)") }
        guard batch > 0, seqLen > 1, threads > 0, steps > 0 else {
            throw ValidationError("--batch, --threads and --steps must be positive and --seq-len at least 2")
        }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else { throw ValidationError("no model at \(model): run scripts/fetch-smollm2.sh") }
        guard method == "both" else {
            let r = try measure(method)
            // The parent reads this line.
            print("RESULT \(method) \(r.tokensPerSecond) \(r.peakRSSMB)")
            return
        }
        var results: [String: (tokensPerSecond: Double, peakRSSMB: Double)] = [:]
        for m in ["lora", "full"] { results[m] = try runChild(m) }
        print("\nPyTorch + PEFT reference (float32, \(threads) threads, 8 × 128): measured on this machine kind, not in this run " +
              "(torch is not importable here; with torch + transformers + peft installed, run the same step with " +
              "LoraConfig(r=8, lora_alpha=16, target_modules=\"all-linear\") and AdamW to re-measure).")
        for m in ["lora", "full"] {
            guard let ours = results[m], let ref = Self.reference[m], let target = Self.targets[m] else { continue }
            let speedup = ours.tokensPerSecond / ref.tokensPerSecond, memory = ours.peakRSSMB / ref.peakRSSMB
            var line = String(format: "%@: Temper %.1f tok/s, %.0f MB | PyTorch %.0f tok/s, %.0f MB | %.2f× speed (target ≥ %.1f×)",
                              m, ours.tokensPerSecond, ours.peakRSSMB, ref.tokensPerSecond, ref.peakRSSMB, speedup, target.speedup)
            line += String(format: ", %.2f× memory", memory) + (target.memory.map { String(format: " (target ≤ %.1f×)", $0) } ?? "")
            print(line)
        }
    }

    /// Runs `temper-bench sft --method m` and reads its RESULT line, passing its other output through.
    private func runChild(_ m: String) throws -> (tokensPerSecond: Double, peakRSSMB: Double) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        child.arguments = ["sft", "--method", m, "--model", model, "--batch", "\(batch)", "--seq-len", "\(seqLen)",
                           "--threads", "\(threads)", "--steps", "\(steps)", "--checkpoint-layers", "\(checkpointLayers)"]
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        var result: (Double, Double)? = nil
        for line in output.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 4, f[0] == "RESULT", let t = Double(f[2]), let r = Double(f[3]) { result = (t, r) } else { print(line) }
        }
        guard child.terminationStatus == 0, let result else {
            throw ValidationError("the \(m) measurement failed (exit status \(child.terminationStatus))")
        }
        return result
    }

    /// Loads the model, applies the method, and times optimizer steps on random tokens.
    private func measure(_ m: String) throws -> (tokensPerSecond: Double, peakRSSMB: Double) {
        Parallel.threadCount = threads
        let report = PluginLoader.shared.load(.standard())
        for name in ["sft", "lora", "full", "adamw"] where ComponentRegistry.shared.descriptor(named: name) == nil {
            throw ValidationError("component \(name) is not registered (are the libTemperPlugin*.so files next to temper-bench?) \(report)")
        }
        let pm = try PretrainedModel.load(from: URL(fileURLWithPath: model))
        let peft = try ComponentRegistry.shared.peft(Self.peftSpecs[m]!)
        let counts = try peft.apply(to: pm.model)
        if m == "lora" { pm.model.checkpointedLayers = checkpointLayers }
        let groups = peft.trainableGroups()
        let objective = try ComponentRegistry.shared.objective("sft")
        let optimizer = try ComponentRegistry.shared.optimizer("adamw:lr=1e-5")
        var rng = PhiloxRNG(seed: 1)
        let vocab = UInt32(pm.model.config.vocabSize)
        let ids = Tensor(shape: [batch, seqLen], int32: (0..<(batch * seqLen)).map { _ in Int32(rng.next32() % (vocab - 100)) + 100 })
        let ones = Tensor.ones([batch, seqLen])
        let data = TrainingBatch(inputIDs: ids, attentionMask: ones, lossMask: ones)
        let trainable = groups.flatMap(\.parameters)
        func step() throws -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            let out = try objective.loss(.batch(data), context: ObjectiveContext(policy: pm.model))
            out.loss.backward()
            try optimizer.step(groups)
            for p in trainable { p.tensor.grad = nil }
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        print("\(m) (\(Self.peftSpecs[m]!)): \(counts), float32, \(threads) thread(s), batch \(batch) × \(seqLen), "
              + "\(pm.model.checkpointedLayers) checkpointed layer(s)")
        let warm = try step()
        let times = try (0..<steps).map { _ in try step() }
        let best = times.min()!
        let rate = Double(batch * seqLen) / best
        let rss = Double(peakRSSKilobytes()) / 1024
        let tensors = Double(TensorAllocator.statistics.peak) / 1_048_576
        print(String(format: "  warm-up %.2f s; steps %@ s; best %.2f s/step = %.1f tokens/s; peak RSS %.0f MB (tensors at most %.0f MB live)",
                     warm, times.map { String(format: "%.2f", $0) }.joined(separator: ", "), best, rate, rss, tensors))
        return (rate, rss)
    }
}
