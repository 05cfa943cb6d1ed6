import ArgumentParser
import Foundation
import TemperModels
import TemperTensor

/// `temper-bench generate`: SmolLM2-135M in float32 — prefill tokens/s (batch 8 × 128), greedy decode
/// tokens/s at batch 1 and sampled decode at batch 8 (128 new tokens each) — and, when a reference
/// Python is given, the same three measured by PyTorch + transformers in the same invocation
/// (`scripts/reference/generate.py`), alternating with Temper's, with the ratio. `--profile` adds
/// where a decode step's time goes (`DecodeProfiler`).
struct GenerationBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Prefill and decode speed of a model (default: SmolLM2-135M from .cache/models) with each GEMM kernel the CPU runs, beside PyTorch's.")

    @Option(help: "A .gguf file or Hugging Face directory.")
    var model = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(name: .customLong("new-tokens"), help: "Tokens to decode per sequence.")
    var newTokens = 128
    @Option(name: .customLong("prompt-tokens"), help: "Prompt length for the prefill measurement.")
    var promptTokens = 128
    @Option(help: "Threads, for Temper and the reference (default: all cores).")
    var threads: Int?
    @Option(help: "Rounds of Temper then the reference, so both see the same background load; the best of each counts.")
    var rounds = 2
    @Flag(name: .customLong("keep-quantized"), help: "Keep the GGUF file's blocks (projections, embedding, tied head) instead of decoding to float32; Temper is then measured with int8 and with float activations.")
    var keepQuantized = false
    @Option(help: "With --keep-quantized: re-encode the projections to this format first (q8_0, q4_0, q4_1), e.g. to measure Q8_0 from SmolLM2's Q4_1 file.")
    var requantize: String?
    @Flag(help: "Also print where a decode step's time goes (norms, products, attention, LM head, sampling, the rest), at batch 1 greedy and batch 8 sampling.")
    var profile = false
    @OptionGroup(title: "Reference (PyTorch: needs torch, transformers, gguf)")
    var reference: ReferenceOptions

    /// llama.cpp's greedy decode at batch 1 from the same blocks (the JSON llamacpp_generate.py prints).
    struct LlamaCppRate: Decodable {
        var decode1: Double
        var rssMB: Double

        enum CodingKeys: String, CodingKey { case decode1, rssMB = "rss_mb" }
    }

    /// Tokens/s of the three measurements, Temper's or the reference's (the JSON generate.py prints).
    struct Rates: Decodable {
        var prefill, decode1, decode8: Double

        /// The better of two measurements, figure by figure.
        func best(_ other: Rates?) -> Rates {
            guard let other else { return self }
            return Rates(prefill: max(prefill, other.prefill), decode1: max(decode1, other.decode1), decode8: max(decode8, other.decode8))
        }

        /// The three rates on one line, for the per-round log.
        var summary: String { String(format: "prefill %.1f, decode batch 1 %.1f, decode batch 8 %.1f tokens/s", prefill, decode1, decode8) }
    }

    func validate() throws {
        // Decode prompts are 16 tokens cut from the prefill batch, and decode rates count newTokens - 1 steps.
        guard promptTokens >= 16, newTokens >= 2 else {
            throw ValidationError("--prompt-tokens must be at least 16 and --new-tokens at least 2, got \(promptTokens) and \(newTokens)")
        }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        if let r = requantize {
            guard keepQuantized else { throw ValidationError("--requantize needs --keep-quantized") }
            guard let f = QuantFormat(rawValue: r.uppercased()), QuantFormat.encodable.contains(f) else {
                throw ValidationError("--requantize must be one of \(QuantFormat.encodable.map { $0.rawValue.lowercased() }.joined(separator: ", ")), got \(r)")
            }
        }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
    }

    func run() throws {
        if let t = threads { Parallel.threadCount = t }
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ValidationError("no model at \(model): run scripts/fetch-smollm2.sh")
        }
        print(loadAverageLine())
        var python = reference.python(threads: Parallel.threadCount)
        // With kept blocks, llama.cpp (llama-cpp-python) decodes the same file's blocks beside Temper.
        var llamaCpp = keepQuantized ? python : nil
        if let p = llamaCpp {
            switch p.versions(of: ["llama_cpp"]) {
            case .success(let versions): print("reference: llama.cpp through llama-cpp-python (the file's blocks, int8 activations): \(versions)")
            case .failure(let problem):
                print("llama.cpp reference not run: \(problem.message)")
                llamaCpp = nil
            }
        }
        if let p = python {
            switch p.versions(of: ["torch", "transformers", "gguf"]) {
            case .success(let versions): print("reference: PyTorch + transformers (float32, sdpa): \(versions)")
            case .failure(let problem):
                print("reference not run: \(problem.message)")
                python = nil
            }
        }

        let pm = try PretrainedModel.load(from: url, quantization: keepQuantized ? .keepGGUFBlocks : .none)
        if let r = requantize, let format = QuantFormat(rawValue: r.uppercased()) {
            try pm.model.reencodeProjections(to: format)
        }
        let blocks = pm.model.quantizedWeightBytes
        let weightsLine = keepQuantized
            ? String(format: "%d block-quantized weights (%@), %.0f MB of blocks", blocks.layers,
                     Set(pm.model.linearLayers.compactMap { $0.quantizedWeight?.format.rawValue }).sorted().joined(separator: "/")
                         + (pm.model.quantizedEmbedding.map { ", embedding \($0.format.rawValue)" } ?? ""),
                     Double(blocks.bytes) / 1_048_576)
            : "float32"
        print("model \(url.lastPathComponent): \(pm.model.config.numHiddenLayers) layers, \(weightsLine), \(Parallel.threadCount) thread(s)")
        // Peak RSS of loading and one greedy decode, before the 8 × 128 prefill (whose all-position
        // logits alone take 200 MB) raises it: what llama.cpp's figure measures.
        _ = try pm.generator.generate(prompts: [[Int32](repeating: 100, count: 16)], options: GenerationOptions(maxNewTokens: newTokens, temperature: 0))
        let generationRSSMB = Double(peakRSSKilobytes()) / 1024
        // Each variant is measured in every round: the GEMM kernels the CPU runs (float32 weights),
        // or int8 vs float activations (kept blocks); the ratio is the active / default one's.
        let variants: [(name: String, run: (() throws -> Rates) throws -> Rates)]
        let active: String, activeIndex: Int
        if keepQuantized {
            variants = [false, true].map { int8 in
                (int8 ? "int8 activations (\(QuantizedDotPath.active.rawValue))" : "float activations", { body in
                    let saved = QuantizedProduct.quantizesActivations
                    QuantizedProduct.quantizesActivations = int8
                    defer { QuantizedProduct.quantizesActivations = saved }
                    return try body()
                })
            }
            active = variants[0].name
            activeIndex = 0
            print("quantized dot paths: \(QuantizedDotPath.supported.map(\.rawValue).joined(separator: ", ")) (active: \(QuantizedDotPath.active.rawValue))")
        } else {
            variants = GEMMKernel.supported.map { kernel in (kernel.rawValue, { body in try GEMMKernel.using(kernel, body) }) }
            active = GEMMKernel.active.rawValue
            activeIndex = GEMMKernel.supported.firstIndex(of: GEMMKernel.active) ?? 0
            print("GEMM kernels: \(GEMMKernel.supported.map(\.rawValue).joined(separator: ", ")) (active: \(active); TEMPER_KERNELS overrides)")
        }
        var ours = [Rates?](repeating: nil, count: variants.count), theirs: Rates? = nil, llama: LlamaCppRate? = nil
        for round in 1...rounds {
            for (index, variant) in variants.enumerated() {
                let temper = try variant.run { try measure(pm) }
                print("round \(round), Temper \(variant.name): \(temper.summary)")
                ours[index] = temper.best(ours[index])
            }
            if let p = llamaCpp {
                switch p.result(LlamaCppRate.self, of: "llamacpp_generate.py", ["--model", url.path, "--new-tokens", "\(newTokens)",
                                                                              "--threads", "\(Parallel.threadCount)"] + (requantize.map { ["--requantize", $0.lowercased()] } ?? [])) {
                case .success(let rate):
                    print(String(format: "round \(round), llama.cpp: decode batch 1 %.1f tokens/s, peak RSS %.0f MB", rate.decode1, rate.rssMB))
                    if rate.decode1 > llama?.decode1 ?? 0 { llama = rate }
                case .failure(let problem):
                    print("llama.cpp reference failed: \(problem.message)")
                    llamaCpp = nil
                }
            }
            guard let p = python else { continue }
            switch p.result(Rates.self, of: "generate.py", ["--model", url.path, "--prompt-tokens", "\(promptTokens)",
                                                             "--new-tokens", "\(newTokens)", "--threads", "\(Parallel.threadCount)"]) {
            case .success(let rates):
                print("round \(round), PyTorch: \(rates.summary)")
                theirs = rates.best(theirs)
            case .failure(let problem):
                print("reference failed: \(problem.message)")
                python = nil
            }
        }
        let measured = ours.compactMap { $0 }
        guard measured.count == variants.count, let mine = ours[activeIndex] else { return }
        let rssMB = Double(peakRSSKilobytes()) / 1024
        print(String(format: "Temper peak RSS %.0f MB (%.0f MB loading and decoding, before the prefill)", rssMB, generationRSSMB)
              + (llama.map { String(format: ", llama.cpp %.0f MB", $0.rssMB) } ?? ""))

        print("\nbest of \(rounds) round(s):")
        let header = ["measurement"] + variants.map { "Temper \($0.name) tok/s" }
            + (theirs == nil ? [] : ["PyTorch tok/s", "ratio (\(active))"])
            + (llama == nil ? [] : ["llama.cpp tok/s", "Temper best / llama.cpp"])
        var table = Table(header)
        func row(_ name: String, _ value: (Rates) -> Double, llamaCppMeasures: Bool = false) {
            let figures = measured.map { String(format: "%.1f", value($0)) }
                + (theirs.map { [String(format: "%.1f", value($0)), String(format: "%.2f×", value(mine) / value($0))] } ?? [])
            let reference = llama.map { rate in
                llamaCppMeasures ? [String(format: "%.1f", rate.decode1), String(format: "%.2f×", (measured.map(value).max() ?? 0) / rate.decode1)] : ["—", "—"]
            } ?? []
            table.add([name] + figures + reference)
        }
        row("prefill 8 × \(promptTokens) (all logits)", \.prefill)
        // llama.cpp is measured at decode batch 1 only (llama-cpp-python decodes one sequence at a time).
        row("decode batch 1, greedy", \.decode1, llamaCppMeasures: true)
        row("decode batch 8, sampling", \.decode8)
        table.print()
        if theirs == nil { print("note: no comparison in this run; \(ReferencePython.howToCompare)") }
        if profile { try printProfile(pm) }
    }

    /// One profiled decode of `newTokens` at batch 1 (greedy) and batch 8 (sampling, top-p 0.95),
    /// printed as milliseconds per decode step by phase (`DecodeProfiler`).
    func printProfile(_ pm: PretrainedModel) throws {
        let vocab = Int32(pm.model.config.vocabSize)
        var rng = PhiloxRNG(seed: 11)
        func randomPrompt() -> [Int32] { (0..<16).map { _ in Int32(rng.next32() % UInt32(vocab - 100)) + 100 } }
        let cases: [(String, [[Int32]], GenerationOptions)] = [
            ("batch 1 greedy", [randomPrompt()], GenerationOptions(maxNewTokens: newTokens, temperature: 0)),
            ("batch 8 sampling", (0..<8).map { _ in randomPrompt() }, GenerationOptions(maxNewTokens: newTokens, temperature: 1, topP: 0.95, seed: 3)),
        ]
        var reports: [DecodeProfiler.Report] = []
        for (_, prompts, options) in cases {
            DecodeProfiler.reset()
            DecodeProfiler.isEnabled = true
            defer { DecodeProfiler.isEnabled = false }
            _ = try pm.generator.generate(prompts: prompts, options: options)
            reports.append(DecodeProfiler.report)
        }
        print("\ndecode step profile (\(newTokens - 1) steps after the prefill; ms per step, share of the step):")
        var table = Table(["phase"] + cases.map(\.0))
        func cell(_ ns: UInt64, _ r: DecodeProfiler.Report) -> String {
            String(format: "%.2f ms (%4.1f %%)", Double(ns) / 1e6 / Double(max(r.steps, 1)), 100 * Double(ns) / Double(max(r.totalNanoseconds, 1)))
        }
        for phase in DecodeProfiler.Phase.allCases {
            table.add([phase.label] + reports.map { cell($0.nanoseconds[phase] ?? 0, $0) })
        }
        table.add(["rest (embedding, masks, stop checks, op overhead)"] + reports.map { cell($0.otherNanoseconds, $0) })
        table.add(["whole step (rows × steps/s)"] + zip(cases, reports).map { c, r in
            String(format: "%.2f ms (%.1f tok/s)", Double(r.totalNanoseconds) / 1e6 / Double(max(r.steps, 1)),
                   Double(c.1.count * r.steps) * 1e9 / Double(max(r.totalNanoseconds, 1)))
        })
        table.print()
        if let floor = StreamingFloor.measure(pm.model) {
            let streamed = zip(cases, reports).map { c, r in
                let ns = (r.nanoseconds[.projections] ?? 0) + (r.nanoseconds[.lmHead] ?? 0)
                return String(format: "%@ %.2f ms (%.2f× the read)", c.0, Double(ns) / 1e6 / Double(max(r.steps, 1)),
                              Double(ns) / 1e9 / Double(max(r.steps, 1)) / floor.seconds)
            }
            print(String(format: "plain read of the %.0f MB a step multiplies with, in the same passes and split (best of 5): %.2f ms (%.1f GB/s); " +
                         "products + LM head per step: ", Double(floor.bytes) / 1e6, floor.seconds * 1e3, Double(floor.bytes) / floor.seconds / 1e9) +
                  streamed.joined(separator: ", "))
        }
    }

    /// Temper's three rates: prefill best of 3 after a warm-up; decode best of 2, less the time of
    /// generating one token (the prompt's prefill), so the rate counts `newTokens - 1` decode steps.
    func measure(_ pm: PretrainedModel) throws -> Rates {
        let vocab = Int32(pm.model.config.vocabSize)
        var rng = PhiloxRNG(seed: 1)
        func randomPrompt(_ n: Int) -> [Int32] { (0..<n).map { _ in Int32(rng.next32() % UInt32(vocab - 100)) + 100 } }

        // Prefill: one forward over 8 × promptTokens, all logits (what a training/scoring forward does).
        let batch = (0..<8).map { _ in randomPrompt(promptTokens) }
        let ids = Tensor(shape: [8, promptTokens], int32: batch.flatMap { $0 })
        _ = try withNoGrad { try pm.model.forward(ids) }   // warm-up: page in weights, fill allocator caches
        let prefill = try bestSeconds(of: 3) { _ = try withNoGrad { try pm.model.forward(ids) } }

        let short = randomPrompt(16)
        let greedy = GenerationOptions(maxNewTokens: newTokens, temperature: 0)
        let one = GenerationOptions(maxNewTokens: 1, temperature: 0)
        let first1 = try bestSeconds(of: 3) { _ = try pm.generator.generate(prompts: [short], options: one) }
        let decode1 = try bestSeconds(of: 2) { _ = try pm.generator.generate(prompts: [short], options: greedy) } - first1

        let prompts8 = (0..<8).map { _ in randomPrompt(16) }
        let sampled = GenerationOptions(maxNewTokens: newTokens, temperature: 1, topP: 0.95, seed: 3)
        let first8 = try bestSeconds(of: 2) { _ = try pm.generator.generate(prompts: prompts8, options: one) }
        let decode8 = try bestSeconds(of: 2) { _ = try pm.generator.generate(prompts: prompts8, options: sampled) } - first8

        guard decode1 > 0, decode8 > 0 else {
            throw ValidationError("decoding \(newTokens) tokens took no longer than the first one: too few to time, use more --new-tokens")
        }
        return Rates(prefill: Double(8 * promptTokens) / prefill, decode1: Double(newTokens - 1) / decode1,
                     decode8: Double(8 * (newTokens - 1)) / decode8)
    }
}
