import ArgumentParser
import Foundation
import TemperCore

/// `temper search`: runs one test-time search strategy on a prompt or on every row of a file.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Run a search strategy (best-of-n, self-consistency, beam, ...) and print one JSON line per prompt.",
        discussion: """
            Each line: {"index", "answer", "score", "candidates": [{"text", "score", "finish_reason"}], "tokens_generated", \
            "tokens_scored", "forward_passes", "scoring_failures"}; candidates best first, the answer is the first. \
            --data rows are TRL prompt-only JSONL (`prompt` or `messages`, plus the columns the reward reads, e.g. `answer`), \
            as `temper data make` writes them. A candidate whose scoring fails is kept unscored and reported on stderr.
            """
    )

    @OptionGroup var options: SearchOptions
    @Option(name: .customLong("search"), help: "Search strategy spec, e.g. best-of-n or budget-forcing:max_thinking_tokens=256.")
    var search: String
    @Option(help: "Samples per prompt (N).")
    var budget = 4
    @Option(name: .customLong("max-generated-tokens"), help: "Most generated tokens per prompt, over all its candidates.")
    var maxGeneratedTokens: Int?
    @Option(help: "One prompt to search from.")
    var prompt: String?
    @Option(help: "A JSONL file of prompts.")
    var data: String?

    func validate() throws {
        guard (prompt == nil) != (data == nil) else { throw ValidationError("give either --prompt TEXT or --data FILE") }
    }

    func run() throws {
        options.plugins.loadPlugins()
        let strategy: any SearchStrategy
        do { strategy = try ComponentRegistry.shared.search(search) } catch let e as SpecError {
            throw CommandError(description: e.message)
        }
        let verifier = try options.verifier()
        let file = try data.map(SearchOptions.readPrompts)
        let handle = try options.loadModel()
        let prompts = file?.prompts ?? [.text(prompt ?? "")]
        let generation = try options.generation(for: handle, samples: budget)
        let stepScorer = try options.stepScorer(handle, verifier: verifier, generation: generation)
        for (i, p) in prompts.enumerated() {
            let request = SearchRequest(model: handle, prompts: [try options.render(p, with: handle)],
                                        columns: file?.columns(ofRow: i) ?? [:], verifier: verifier, stepScorer: stepScorer,
                                        budget: SearchBudget(samplesPerPrompt: budget, maxGeneratedTokens: maxGeneratedTokens),
                                        generation: rowOptions(generation, row: i))
            let result: SearchResult
            do { result = try strategy.search(request) } catch {
                throw CommandError(description: file.map { "\(data ?? ""):\($0.lines[i]): \(error)" } ?? "\(error)")
            }
            for failure in result.failures {
                FileHandle.standardError.write(Data("warning: row \(i): scoring failed: \(failure)\n".utf8))
            }
            print(Self.jsonLine(index: i, result))
            fflush(stdout)
        }
    }

    /// The options of row `i`: its own sampler seed, so rows are independent draws (`--seed` with
    /// one prompt is used as given).
    private func rowOptions(_ options: GenerationOptions, row i: Int) -> GenerationOptions {
        var o = options
        if data != nil { o.seed = SearchSweep.itemSeed(options.seed, item: i) }
        return o
    }

    /// One output line for the single prompt of `result`.
    static func jsonLine(index: Int, _ result: SearchResult) -> String {
        let candidates = result.candidates.first ?? []
        // Through the Float's shortest text, so 0.9 prints as 0.9 rather than 0.8999999761581421.
        let score = { (s: Float?) in s.map { ColumnValue.number(Double("\($0)") ?? Double($0)) } ?? .null }
        let fields: [(String, ColumnValue)] = [
            ("index", .number(Double(index))), ("answer", candidates.first.map { .string($0.sequence.text) } ?? .null),
            ("score", score(candidates.first?.score)),
            ("candidates", .array(candidates.map { c in
                .object(["text": .string(c.sequence.text), "score": score(c.score), "finish_reason": .string(c.sequence.finishReason.rawValue)])
            })),
            ("tokens_generated", .number(Double(result.usage.tokensGenerated))), ("tokens_scored", .number(Double(result.usage.tokensScored))),
            ("forward_passes", .number(Double(result.usage.forwardPasses))),
            ("scoring_failures", .array(result.failures.map(ColumnValue.string))),
        ]
        return "{" + fields.map { ColumnValue.string($0.0).json + ":" + $0.1.json }.joined(separator: ",") + "}"
    }
}
