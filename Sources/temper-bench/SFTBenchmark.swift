import ArgumentParser
import Foundation
import TemperCore

/// `temper-bench sft`: one SFT optimizer step (forward, backward, AdamW update) on SmolLM2-135M in
/// float32, batch 8 × 128 tokens, with LoRA (r=8, alpha=16, all seven projection types) and with full
/// fine-tuning: tokens/s (best and median step) and peak RSS — and, when a reference Python is given,
/// the same step in PyTorch + PEFT (`scripts/reference/sft.py`) right after each method, with the ratios.
///
/// The objective, PEFT methods and optimizer come from the plugins, loaded as `temper` loads them.
/// Each method runs in a child process of its own, Temper's and the reference's alike, because peak
/// RSS (VmHWM) is a per-process high-water mark: measured in one process, full fine-tuning's figure
/// would hide LoRA's.
struct SFTBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "SFT step tokens/s and peak RSS, LoRA and full fine-tuning, beside PyTorch + PEFT's (targets: LoRA ≥ 300 tokens/s at ≤ 2.6 GB; full ≥ 220 at ≤ 4.0 GB).")

    @Option(help: "A .gguf file or Hugging Face directory.")
    var model = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "lora, full, qlora (LoRA on the GGUF's kept blocks), or both (lora and full; each in its own process).")
    var method = "both"
    @Flag(name: .customLong("keep-quantized"), help: "Also measure QLoRA: LoRA on the GGUF file's blocks kept quantized, after the float32 LoRA step, with the speed ratio.")
    var keepQuantized = false
    @Option(help: "For QLoRA: re-encode the projections to q8_0, q4_0 or q4_1 first (the Q8_0 target from SmolLM2's Q4_1 file).")
    var requantize: String?
    @Option(help: "Sequences per step.")
    var batch = 8
    @Option(name: .customLong("seq-len"), help: "Tokens per sequence.")
    var seqLen = 128
    @Option(help: "Threads, for Temper and the reference.")
    var threads = 2
    @Option(help: "Timed steps after one warm-up step; the best and the median are reported.")
    var steps = 3
    @Option(name: .customLong("checkpoint-layers"),
            help: "Decoder layers to run under activation checkpointing (gradient_checkpointing_layers), for Temper's LoRA; full fine-tuning and the reference keep all activations.")
    var checkpointLayers = 0
    @Flag(help: "Also measure each method with bf16: true (products in bfloat16 with float32 accumulation, AVX512_BF16; the reference under torch.autocast(bfloat16)), after its float32 row.")
    var bf16 = false
    @Flag(help: "After the timed steps, profile one more step: time and tensor bytes per op family (GEMM by role, attention, norms, elementwise, loss, optimizer, allocator…).")
    var profile = false
    @OptionGroup(title: "Reference (PyTorch + PEFT: needs torch, transformers, peft, gguf)")
    var reference: ReferenceOptions
    /// Set in the per-method child process, which prints one `RESULT` line for the parent.
    @Flag(help: .hidden)
    var child = false

    /// One method's measurement: tokens/s of the fastest and of the median timed step, and the peak
    /// RSS of its process (the JSON that sft.py prints, and what Temper's child reports).
    struct Figures: Decodable {
        var best, median, peakRSSMB: Double

        enum CodingKeys: String, CodingKey {
            case best, median
            case peakRSSMB = "peak_rss_mb"
        }
    }

    /// Issue 13's targets for this step (SmolLM2-135M, 8 × 128, 2 threads).
    static let targets = "targets (issue 13, 8 × 128, 2 threads): lora ≥ 300 tokens/s at ≤ 2.6 GB peak RSS; full ≥ 220 tokens/s at ≤ 4.0 GB"

    static let peftSpecs = ["lora": "lora:r=8,alpha=16,target_modules=all-linear", "qlora": "lora:r=8,alpha=16,target_modules=all-linear", "full": "full"]

    func validate() throws {
        guard ["lora", "full", "qlora", "both"].contains(method) else { throw ValidationError("--method must be lora, full, qlora or both, got \(method)") }
        if let r = requantize, !QuantFormat.encodable.contains(where: { $0.rawValue == r.uppercased() }) {
            throw ValidationError("--requantize must be one of \(QuantFormat.encodable.map { $0.rawValue.lowercased() }.joined(separator: ", ")), got \(r)")
        }
        guard batch > 0, seqLen > 1, threads > 0, steps > 0 else {
            throw ValidationError("--batch, --threads and --steps must be positive and --seq-len at least 2")
        }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else { throw ValidationError("no model at \(model): run scripts/fetch-smollm2.sh") }
        if child {
            guard method != "both" else { throw ValidationError("a child measures one method, got --method both") }
            if bf16 {
                do { try GEMMPrecision.set(.bf16) } catch { throw ValidationError("--bf16: \(error)") }
            }
            let r = try measure(method)
            print("RESULT \(method) \(r.best) \(r.median) \(r.peakRSSMB)")
            return
        }
        print(loadAverageLine())
        var python = reference.python(threads: threads)
        if let p = python {
            switch p.versions(of: ["torch", "transformers", "peft", "gguf"]) {
            case .success(let versions):
                print("reference: PyTorch + PEFT (float32, AdamW, the same step on the same batch shape): \(versions)")
                if checkpointLayers > 0 { print("note: the reference keeps every activation (no gradient checkpointing), as the LoRA target is set against") }
            case .failure(let problem):
                print("reference not run: \(problem.message)")
                python = nil
            }
        }

        // Temper then the reference for each method, so both see nearly the same background load.
        var results: [(method: String, ours: Figures, theirs: Figures?)] = []
        var methods = method == "both" ? ["lora", "full"] : [method]
        if keepQuantized && methods.contains("lora") { methods.insert("qlora", at: methods.firstIndex(of: "lora")! + 1) }
        // With --bf16 each method (QLoRA aside) gets a bf16 row right after its float32 one.
        let runs = methods.flatMap { m in bf16 && m != "qlora" ? [(m, false), (m, true)] : [(m, false)] }
        for (m, half) in runs {
            let label = half ? "\(m) bf16" : m
            let ours = try runChild(m, bf16: half)
            var theirs: Figures? = nil
            // PEFT's QLoRA needs bitsandbytes' CUDA kernels: there is no CPU reference for it.
            if let python, m != "qlora" {
                switch python.result(Figures.self, of: "sft.py", ["--model", model, "--method", m, "--batch", "\(batch)", "--seq-len", "\(seqLen)",
                                                                  "--threads", "\(threads)", "--steps", "\(steps)"] + (half ? ["--bf16"] : [])) {
                case .success(let figures):
                    theirs = figures
                    print(String(format: "%@, PyTorch + PEFT: best %.1f tokens/s, median %.1f; peak RSS %.0f MB", label, figures.best, figures.median, figures.peakRSSMB))
                case .failure(let problem): print("\(label), PyTorch + PEFT failed: \(problem.message)")
                }
            }
            results.append((label, ours, theirs))
        }

        print("")
        let compared = results.contains { $0.theirs != nil }
        var table = Table(["method", "Temper best tok/s", "median", "peak RSS MB"]
                          + (compared ? ["PyTorch best tok/s", "median", "peak RSS MB", "speed (best)", "speed (median)", "memory"] : []))
        for (m, ours, theirs) in results {
            var row = [m, String(format: "%.1f", ours.best), String(format: "%.1f", ours.median), String(format: "%.0f", ours.peakRSSMB)]
            if compared {
                row += theirs.map {
                    [String(format: "%.1f", $0.best), String(format: "%.1f", $0.median), String(format: "%.0f", $0.peakRSSMB),
                     String(format: "%.2f×", ours.best / $0.best), String(format: "%.2f×", ours.median / $0.median),
                     String(format: "%.2f×", ours.peakRSSMB / $0.peakRSSMB)]
                } ?? Array(repeating: "-", count: 6)
            }
            table.add(row)
        }
        table.print()
        if let q = results.first(where: { $0.method == "qlora" }), let f = results.first(where: { $0.method == "lora" }) {
            print(String(format: "QLoRA / float32 LoRA: speed %.2f× (best), %.2f× (median); peak RSS %.0f vs %.0f MB (target: ≥ 0.8× at ≤ 1.5 GB)",
                         q.ours.best / f.ours.best, q.ours.median / f.ours.median, q.ours.peakRSSMB, f.ours.peakRSSMB))
        }
        print(Self.targets)
        if !compared { print("note: no comparison in this run; \(ReferencePython.howToCompare)") }
    }

    /// Runs `temper-bench sft --child --method m` and reads its RESULT line, passing its other output through.
    private func runChild(_ m: String, bf16 half: Bool) throws -> Figures {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["sft", "--child", "--method", m, "--model", model, "--batch", "\(batch)", "--seq-len", "\(seqLen)",
                             "--threads", "\(threads)", "--steps", "\(steps)", "--checkpoint-layers", "\(checkpointLayers)"]
            + (requantize.map { ["--requantize", $0] } ?? []) + (profile ? ["--profile"] : []) + (half ? ["--bf16"] : [])
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var result: Figures? = nil
        for line in output.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 5, f[0] == "RESULT", let best = Double(f[2]), let mid = Double(f[3]), let rss = Double(f[4]) {
                result = Figures(best: best, median: mid, peakRSSMB: rss)
            } else {
                print(line)
            }
        }
        guard process.terminationStatus == 0, let result else {
            throw ValidationError("Temper's \(m)\(half ? " bf16" : "") measurement failed (exit status \(process.terminationStatus))")
        }
        return result
    }

    /// Loads the model, applies the method, and times optimizer steps on random tokens.
    private func measure(_ m: String) throws -> Figures {
        Parallel.threadCount = threads
        let report = PluginLoader.shared.load(.standard())
        for name in ["sft", "lora", "full", "adamw"] where ComponentRegistry.shared.descriptor(named: name) == nil {
            throw ValidationError("component \(name) is not registered (are the libTemperPlugin*.so files next to temper-bench?) \(report)")
        }
        guard let spec = Self.peftSpecs[m] else { throw ValidationError("--method must be lora or full here, got \(m)") }
        let pm = try PretrainedModel.load(from: URL(fileURLWithPath: model), quantization: m == "qlora" ? .keepGGUFBlocks : .none)
        if m == "qlora", let r = requantize, let format = QuantFormat(rawValue: r.uppercased()) {
            try pm.model.reencodeProjections(to: format)
        }
        let peft = try ComponentRegistry.shared.peft(spec)
        let counts = try peft.apply(to: pm.model)
        if m != "full" { pm.model.checkpointedLayers = checkpointLayers }
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
            try seconds {
                OpProfiler.mark()
                let out = try objective.loss(.batch(data), context: ObjectiveContext(policy: pm.model))
                out.loss.backward()
                try OpProfiler.measure(.optimizer) { try optimizer.step(groups) }
                OpProfiler.measure(.other) { for p in trainable { p.tensor.grad = nil } }
            }
        }
        let blocks = pm.model.quantizedWeightBytes
        let weights = blocks.layers == 0 ? "float32" : String(format: "%d block-quantized weights (%.0f MB)", blocks.layers, Double(blocks.bytes) / 1_048_576)
        print("\(m), Temper (\(spec)): \(counts), \(weights), \(GEMMPrecision.active.rawValue) products, \(threads) thread(s), batch \(batch) × \(seqLen), "
              + "\(pm.model.checkpointedLayers) checkpointed layer(s)")
        let warm = try step()
        let times = try (0..<steps).map { _ in try step() }
        let tokens = Double(batch * seqLen)
        let figures = Figures(best: tokens / (times.min() ?? .infinity), median: tokens / median(times), peakRSSMB: Double(peakRSSKilobytes()) / 1024)
        let tensors = Double(TensorAllocator.statistics.peak) / 1_048_576
        print(String(format: "  warm-up %.2f s; steps %@ s; best %.1f tokens/s, median %.1f; peak RSS %.0f MB (tensors at most %.0f MB live)",
                     warm, times.map { String(format: "%.2f", $0) }.joined(separator: ", "), figures.best, figures.median, figures.peakRSSMB, tensors))
        if profile {
            OpProfiler.reset()
            OpProfiler.isEnabled = true
            let wall = try step()
            OpProfiler.isEnabled = false
            Self.printProfile(wall: wall)
        }
        return figures
    }

    /// The profiled step's table: per op family, forward and backward milliseconds, share of the
    /// step, and the tensor bytes it allocated.
    static func printProfile(wall: Double) {
        print(String(format: "  profile of one more step (%.2f s wall; profiling hooks on):", wall))
        var table = Table(["  op family", "forward ms", "backward ms", "total ms", "share", "calls", "MB allocated"])
        var sum: UInt64 = 0
        for family in OpProfiler.Family.allCases {
            let f = OpProfiler.entry(family, .forward), b = OpProfiler.entry(family, .backward)
            let total = f.nanoseconds + b.nanoseconds
            guard total > 0 || f.calls + b.calls > 0 else { continue }
            sum += total
            table.add(["  " + family.rawValue, String(format: "%.0f", Double(f.nanoseconds) / 1e6), String(format: "%.0f", Double(b.nanoseconds) / 1e6),
                       String(format: "%.0f", Double(total) / 1e6), String(format: "%.1f %%", Double(total) / 1e7 / wall),
                       "\(f.calls + b.calls)", String(format: "%.0f", Double(f.bytes + b.bytes) / 1_048_576)])
        }
        let unaccounted = wall * 1e9 - Double(sum)
        table.add(["  outside the hooks", "", "", String(format: "%.0f", unaccounted / 1e6), String(format: "%.1f %%", unaccounted / 1e7 / wall), "", ""])
        table.print()
        print("  (GEMM rows: inside GEMM.sgemm by role; other rows exclude the GEMM and allocator time they called; "
              + "allocator MB: buffers new from the system, the rest reused from its cache; other rows' MB: buffers they took)")
    }
}
