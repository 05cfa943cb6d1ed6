import ArgumentParser
import Foundation
import TemperModels
import TemperTensor

/// `temper-bench generate`: SmolLM2-135M in float32 — prefill tokens/s (batch 8 × 128), greedy decode
/// tokens/s at batch 1 and sampled decode at batch 8 (128 new tokens each) — with the reference
/// figures of PyTorch (transformers) run in the same invocation when it is installed.
struct GenerationBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Prefill and decode speed of a model (default: SmolLM2-135M from .cache/models).")

    @Option(help: "A .gguf file or Hugging Face directory.")
    var model = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(name: .customLong("new-tokens"), help: "Tokens to decode per sequence.")
    var newTokens = 128
    @Option(name: .customLong("prompt-tokens"), help: "Prompt length for the prefill measurement.")
    var promptTokens = 128
    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    func run() throws {
        if let t = threads { Parallel.threadCount = t }
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("no model at \(model): run scripts/fetch-smollm2.sh")
        }
        let pm = try PretrainedModel.load(from: url)
        let vocab = Int32(pm.model.config.vocabSize)
        var rng = PhiloxRNG(seed: 1)
        func randomPrompt(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.next32() % UInt32(vocab - 100)) + 100 } }
        print("model \(url.lastPathComponent): \(pm.model.parameterCount) parameters, float32, \(Parallel.threadCount) thread(s)")

        // Prefill: one forward over 8 × promptTokens, all logits (what a training/scoring forward does).
        let batch = (0..<8).map { _ in randomPrompt(promptTokens) }
        let ids = Tensor(shape: [8, promptTokens], int32: batch.flatMap { $0 })
        _ = try withNoGrad { try pm.model.forward(ids) }   // warm-up: page in weights, fill allocator caches
        let prefill = try best(of: 3) { _ = try withNoGrad { try pm.model.forward(ids) } }
        let prefillRate = Double(8 * promptTokens) / prefill

        // Decode at batch 1, greedy; prefill time is measured separately and subtracted.
        let short = randomPrompt(16)
        let greedy = SamplingParameters(maxNewTokens: newTokens, temperature: 0)
        let prefill1 = try best(of: 3) { _ = try pm.generator.generate(prompts: [short], parameters: SamplingParameters(maxNewTokens: 1)) }
        let decode1 = try best(of: 2) { _ = try pm.generator.generate(prompts: [short], parameters: greedy) } - prefill1
        let decode1Rate = Double(newTokens - 1) / decode1

        // Decode at batch 8, sampling.
        let prompts8 = (0..<8).map { _ in randomPrompt(16) }
        let sampled = SamplingParameters(maxNewTokens: newTokens, temperature: 1, topP: 0.95, seed: 3)
        let prefill8 = try best(of: 2) { _ = try pm.generator.generate(prompts: prompts8, parameters: SamplingParameters(maxNewTokens: 1)) }
        let decode8 = try best(of: 2) { _ = try pm.generator.generate(prompts: prompts8, parameters: sampled) } - prefill8
        let decode8Rate = Double(8 * (newTokens - 1)) / decode8

        let rssMB = Double(peakRSSKilobytes()) / 1024
        let weightsMB = Double(pm.model.parameterCount * 4) / 1_048_576
        print(String(format: "peak RSS %.0f MB (float32 weights %.0f MB)", rssMB, weightsMB))

        let reference = PyTorchReference.measure(model: url, promptTokens: promptTokens, newTokens: newTokens, threads: Parallel.threadCount)
        print("")
        print("measurement                         Temper tok/s   PyTorch tok/s   ratio")
        func row(_ name: String, _ ours: Double, _ theirs: Double?) {
            let t = theirs.map { String(format: "%13.1f", $0) } ?? "            -"
            let r = theirs.map { String(format: "%6.2f×", ours / $0) } ?? "      -"
            print(name.padding(toLength: 34, withPad: " ", startingAt: 0) + String(format: "%13.1f", ours) + "   " + t + "   " + r)
        }
        row("prefill 8 × \(promptTokens) (all logits)", prefillRate, reference.values?.prefill)
        row("decode batch 1, greedy", decode1Rate, reference.values?.decode1)
        row("decode batch 8, sampling", decode8Rate, reference.values?.decode8)
        if let note = reference.note { print("note: \(note)") }
    }

    /// Fastest of `n` timed runs, in seconds.
    func best(of n: Int, _ body: () throws -> Void) throws -> Double {
        var fastest = Double.infinity
        for _ in 0..<n {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            fastest = min(fastest, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return fastest
    }
}

/// Peak resident set size of this process (VmHWM), in kilobytes.
func peakRSSKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

/// The same three measurements in PyTorch + transformers (float32, sdpa), when they are installed.
enum PyTorchReference {
    struct Values { var prefill, decode1, decode8: Double }

    static func measure(model: URL, promptTokens: Int, newTokens: Int, threads: Int) -> (values: Values?, note: String?) {
        let script = """
        import sys, time
        try:
            import torch, transformers
        except Exception as e:
            print("MISSING", e); sys.exit(0)
        torch.set_num_threads(\(threads))
        path = sys.argv[1]
        import os
        if path.endswith('.gguf'):
            m = transformers.AutoModelForCausalLM.from_pretrained(os.path.dirname(path), gguf_file=os.path.basename(path), torch_dtype=torch.float32)
        else:
            m = transformers.AutoModelForCausalLM.from_pretrained(path, torch_dtype=torch.float32)
        m.eval()
        g = torch.Generator().manual_seed(1)
        ids = torch.randint(100, m.config.vocab_size, (8, \(promptTokens)), generator=g)
        def best(n, f):
            b = 1e9
            for _ in range(n):
                t = time.perf_counter(); f(); b = min(b, time.perf_counter() - t)
            return b
        with torch.no_grad():
            m(ids)
            p = best(3, lambda: m(ids))
            one = ids[:1, :16]
            pre1 = best(2, lambda: m.generate(one, max_new_tokens=1, do_sample=False))
            d1 = best(2, lambda: m.generate(one, max_new_tokens=\(newTokens), min_new_tokens=\(newTokens), do_sample=False)) - pre1
            eight = ids[:, :16]
            pre8 = best(2, lambda: m.generate(eight, max_new_tokens=1, do_sample=True))
            d8 = best(2, lambda: m.generate(eight, max_new_tokens=\(newTokens), min_new_tokens=\(newTokens), do_sample=True, top_p=0.95)) - pre8
        print("RESULT", 8 * \(promptTokens) / p, \(newTokens - 1) / d1, 8 * \(newTokens - 1) / d8)
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, model.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = Pipe()
        do { try process.run() } catch { return (nil, "python3 not runnable (\(error)); PyTorch reference skipped") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RESULT") }) {
            let v = line.split(separator: " ").dropFirst().compactMap { Double($0) }
            if v.count == 3 { return (Values(prefill: v[0], decode1: v[1], decode8: v[2]), nil) }
        }
        if text.contains("MISSING") {
            return (nil, "PyTorch/transformers not installed here (pip install torch transformers gguf to compare in the same run); "
                    + "figures measured on this machine kind: prefill ≈ 350 tok/s, decode batch 1 ≈ 15 tok/s, batch 8 ≈ 49 tok/s; "
                    + "llama.cpp F32: prompt ≈ 360 tok/s, generation ≈ 44 tok/s")
        }
        return (nil, "the PyTorch reference failed: \(text.prefix(300))")
    }
}
