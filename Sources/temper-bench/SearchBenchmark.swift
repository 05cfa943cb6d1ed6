import ArgumentParser
import Foundation
import TemperCore

/// `temper-bench search`: best-of-N on a chat prompt through the `best-of-n` plugin and the model
/// handle — N samples of one prompt in one batched decode, each scored by the `repetition` reward
/// (the least repetitive first) — in generated tokens per second of the whole search, beside
/// transformers' `generate` with `num_return_sequences=N` (`scripts/reference/search.py`) run in
/// the same invocation.
struct SearchBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Best-of-N sampling speed (default: SmolLM2-135M, N = 8), beside transformers' generate(num_return_sequences=N).")

    @Option(help: "A .gguf file or Hugging Face directory.")
    var model = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Candidates per prompt (N).")
    var samples = 8
    @Option(name: .customLong("new-tokens"), help: "Tokens every candidate generates (min_new_tokens = max_new_tokens).")
    var newTokens = 128
    @Option(help: "Threads, for Temper and the reference (default: all cores).")
    var threads: Int?
    @Option(help: "Rounds of Temper then the reference; the best of each counts.")
    var rounds = 2
    @OptionGroup(title: "Reference (PyTorch: needs torch, transformers, gguf)")
    var reference: ReferenceOptions

    /// The prompt both sides sample from, rendered with the model's chat template.
    static let question = "Write a short story about a robot who learns to paint."

    /// Generated tokens per second of one best-of-N search (the JSON search.py prints).
    struct Rate: Decodable {
        var tokensPerSecond: Double

        enum CodingKeys: String, CodingKey { case tokensPerSecond = "tokens_per_second" }
    }

    func validate() throws {
        guard samples >= 1, newTokens >= 1 else { throw ValidationError("--samples and --new-tokens must be at least 1") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
    }

    func run() throws {
        if let t = threads { Parallel.threadCount = t }
        guard FileManager.default.fileExists(atPath: model) else { throw ValidationError("no model at \(model): run scripts/fetch-smollm2.sh") }
        let report = PluginLoader.shared.load(.standard())
        guard ComponentRegistry.shared.descriptor(named: "best-of-n") != nil, ComponentRegistry.shared.descriptor(named: "repetition") != nil else {
            throw ValidationError("best-of-n or repetition is not registered (are the Search and Rewards plugins next to temper-bench?) \(report)")
        }
        print(loadAverageLine())
        var python = reference.python(threads: Parallel.threadCount)
        if let p = python {
            switch p.versions(of: ["torch", "transformers", "gguf"]) {
            case .success(let versions): print("reference: PyTorch + transformers generate(num_return_sequences=\(samples)): \(versions)")
            case .failure(let problem):
                print("reference not run: \(problem.message)")
                python = nil
            }
        }
        let handle = try PretrainedModelHandle.load(model: URL(fileURLWithPath: model))
        let prompt = try handle.renderChat([ChatMessage(role: "user", content: Self.question)])
        let strategy = try ComponentRegistry.shared.search("best-of-n")
        let request = SearchRequest(model: handle, prompts: [prompt], verifier: try ComponentRegistry.shared.reward("repetition").reward,
                                    budget: SearchBudget(samplesPerPrompt: samples),
                                    generation: GenerationOptions(maxNewTokens: newTokens, minNewTokens: newTokens, temperature: 1, topP: 0.95, seed: 5))
        print("best-of-\(samples), \(newTokens) tokens each, \(Parallel.threadCount) thread(s), prompt of \(try handle.tokenize(prompt).count) tokens")
        _ = try strategy.search(request)   // warm-up: page in weights, fill allocator caches
        var ours = 0.0, theirs: Double?
        for round in 1...rounds {
            var generated = 0
            let elapsed = try seconds { generated = try strategy.search(request).usage.tokensGenerated }
            let rate = Double(generated) / elapsed
            print(String(format: "round %d, Temper: %d tokens in %.2f s, %.1f tokens/s", round, generated, elapsed, rate))
            ours = max(ours, rate)
            guard let p = python else { continue }
            switch p.result(Rate.self, of: "search.py", ["--model", model, "--prompt", Self.question, "--samples", "\(samples)",
                                                         "--new-tokens", "\(newTokens)", "--threads", "\(Parallel.threadCount)"]) {
            case .success(let r):
                print(String(format: "round %d, PyTorch: %.1f tokens/s", round, r.tokensPerSecond))
                theirs = max(theirs ?? 0, r.tokensPerSecond)
            case .failure(let problem):
                print("reference failed: \(problem.message)")
                python = nil
            }
        }
        print("\nbest of \(rounds) round(s):")
        var table = Table(theirs == nil ? ["measurement", "Temper tok/s"] : ["measurement", "Temper tok/s", "PyTorch tok/s", "ratio"])
        table.add(["best-of-\(samples), one prompt, sampled + scored"] + [String(format: "%.1f", ours)]
                  + (theirs.map { [String(format: "%.1f", $0), String(format: "%.2f×", ours / $0)] } ?? []))
        table.print()
        if theirs == nil { print("note: no comparison in this run; \(ReferencePython.howToCompare)") }
    }
}
