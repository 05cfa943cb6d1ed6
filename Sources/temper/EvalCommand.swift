import ArgumentParser
import Foundation
import TemperCore

/// `temper eval`: accuracy against compute for search strategies over budgets and seeds.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate search strategies on a dataset: accuracy, pass@k, maj@k and tokens per answer for every budget and seed.",
        discussion: """
            Every --search runs at every --budgets value (samples per prompt) with --seeds seeds, on every row of --data; \
            the --reward grades each answer (correct when its score reaches --pass-threshold) and only grades: best-of-n and \
            its kin select with --verifier (a reward spec, e.g. reward-model:PATH, repeatable as a weighted sum), or with the \
            grading reward itself under --verifier oracle, and then their rows say "(oracle verifier)". The rollout step \
            scorer grades its rollouts with the verifier too. pass@k is Chen et al.'s unbiased estimator over the strategy's candidates \
            (k = their number), maj@k whether their majority answer (compared as math-equiv compares) is correct. \
            --output-dir gets items.jsonl (one graded search per line), summary.csv (mean and standard deviation over \
            seeds), accuracy-vs-compute.svg (accuracy against generated tokens per answer, one line per strategy) and \
            report.html (the chart and table as one page). \
            --sweep-table FILE also estimates each question's difficulty from --probe-samples verified samples and writes \
            the table compute-optimal:table=FILE routes by.
            """
    )

    @OptionGroup var options: SearchOptions
    @Option(help: "A JSONL file of prompts with the columns the reward reads (e.g. from `temper data make`).")
    var data: String
    @Option(name: .customLong("search"), help: "Search strategy spec (repeatable).")
    var searches: [String] = []
    @Option(help: "Samples per prompt to run every strategy with, comma-separated.")
    var budgets = "1,2,4,8,16"
    @Option(help: "Seeds per strategy and budget (--seed, --seed + 1, ...).")
    var seeds = 3
    @Option(help: "Evaluate only the first N rows.")
    var limit: Int?
    @Option(name: .customLong("pass-threshold"), help: "A reward score at or above this is a correct answer.")
    var passThreshold: Float = 1
    @Option(name: .customLong("output-dir"), help: "Where items.jsonl, summary.csv and accuracy-vs-compute.svg go.")
    var outputDir = "runs/eval"
    @Option(name: .customLong("sweep-table"), help: "Also write the compute-optimal routing table to this JSON file.")
    var sweepTable: String?
    @Option(name: .customLong("probe-samples"), help: "Samples per question that estimate its difficulty for --sweep-table.")
    var probeSamples = 4
    @Option(help: "Difficulty bins of --sweep-table.")
    var bins = 5
    @Option(name: .customLong("verifier"),
            help: "Reward spec best-of-n, weighted-best-of-n, self-refine, compute-optimal and the rollout step scorer select with (repeatable: a weighted sum), or 'oracle': the grading --reward itself, labelled so.")
    var verifiers: [String] = []

    func validate() throws {
        guard !searches.isEmpty else { throw ValidationError("give at least one --search SPEC") }
        guard !options.rewards.isEmpty else { throw ValidationError("give the --reward SPEC that grades answers") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if verifiers.contains("oracle"), verifiers.count > 1 {
            throw ValidationError("--verifier oracle selects with the grading --reward alone; give it without other --verifier specs")
        }
        if sweepTable != nil, verifiers.isEmpty {
            throw ValidationError("--sweep-table estimates question difficulty with the verifier: give --verifier SPEC (or --verifier oracle)")
        }
    }

    func run() throws {
        options.plugins.loadPlugins()
        let budgetList = try budgets.split(separator: ",").map { part -> Int in
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw CommandError(description: "--budgets: '\(part)' is not a whole number (expected e.g. 1,2,4,8,16)")
            }
            return n
        }
        guard let reward = try options.verifier() else { throw CommandError(description: "give the --reward SPEC that grades answers") }
        let verifier: RewardSum? = verifiers == ["oracle"] ? reward : verifiers.isEmpty ? nil : try SearchOptions.rewardSum(verifiers)
        for spec in searches {
            do { _ = try ComponentRegistry.shared.search(spec) } catch let e as SpecError { throw CommandError(description: e.message) }
        }
        let file = try SearchOptions.readPrompts(data)
        let count = min(file.count, limit ?? file.count)
        let handle = try options.loadModel()
        let generation = try options.generation(for: handle, samples: budgetList.max() ?? 1)
        var sweep: SearchSweep
        do {
            sweep = try SearchSweep(searches: searches, budgets: budgetList, seeds: seeds, generation: generation, reward: reward,
                                    passThreshold: passThreshold, probeSamples: sweepTable == nil ? nil : probeSamples, bins: bins)
            sweep.verifier = verifier
            sweep.verifierLabel = verifiers.isEmpty ? nil : verifiers.joined(separator: " + ")
            sweep.answerReader = try Self.gradingReader(options.rewards)
            sweep.stepScorer = try options.stepScorer(handle, verifier: verifier, generation: generation, verifierFlag: "--verifier")
        } catch let e as SpecError {
            throw CommandError(description: e.message)
        }
        let prompts = try (0..<count).map { try options.render(file.prompts[$0], with: handle) }
        let columns = file.columns.mapValues { Array($0[..<count]) }

        let out = URL(fileURLWithPath: outputDir)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        var items: [SweepItemRecord] = []
        let progress = EvalProgress()
        let outcome: SearchSweep.Outcome
        do {
            outcome = try sweep.run(model: handle, prompts: prompts, columns: columns, progress: progress.show,
                                    record: { r in
                                        items.append(r)
                                        for f in r.scoringFailures { progress.warn("scoring failed: \(f)") }
                                    })
        } catch {
            progress.finish()
            throw CommandError(description: "\(error)")
        }
        progress.finish()
        let title = "\(URL(fileURLWithPath: data).lastPathComponent), \(count) items, \(seeds) seed\(seeds == 1 ? "" : "s")"
        try EvalOutputFolder.write(rows: outcome.rows, items: items, title: title, to: out)
        if let sweepTable, let table = outcome.table {
            try table.write(to: sweepTable)
            FileHandle.standardError.write(Data(("compute-optimal table: \(table.choices.count) choices over \(bins) bins, written to \(sweepTable) " +
                "(probes generated \(outcome.probeUsage.tokensGenerated) tokens)\n").utf8))
        }
        print(Self.table(outcome.rows))
        let report = RunReport.writeOrWarn(folder: out).map { ", \($0.lastPathComponent)" } ?? ""
        print("wrote \(out.path)/items.jsonl, summary.csv, accuracy-vs-compute.svg\(report)")
    }

    /// The answer reader of the grading reward: the first math-equiv spec's `extract`, so maj@k
    /// votes over answers read where the grade reads them; the default otherwise.
    static func gradingReader(_ rewardSpecs: [String]) throws -> MathAnswerReader {
        do {
            guard let spec = try rewardSpecs.first(where: { try ComponentSpec(parsing: $0).name == "math-equiv" }) else { return MathAnswerReader() }
            return try SearchSweep.answerReader(ofSpec: spec) ?? MathAnswerReader()
        } catch let e as SpecError {
            throw CommandError(description: "--reward \(e.message)")
        }
    }

    /// The rows as a text table: mean ± standard deviation over seeds.
    static func table(_ rows: [SweepRow]) -> String {
        func pct(_ m: MeanSpread) -> String { String(format: "%.1f ± %.1f", 100 * m.mean, 100 * m.std) }
        return TextTable.render(
            header: ["SEARCH", "BUDGET", "ACCURACY %", "PASS@1 %", "PASS@K %", "MAJ@K %", "TOKENS/ANSWER", "SECONDS"],
            rows: rows.map { r in
                [r.search, String(r.budget), pct(r.accuracy), pct(r.passAt1), pct(r.passAtK), pct(r.majAtK),
                 String(format: "%.1f", r.tokensPerAnswer.mean), String(format: "%.1f", r.wallSeconds.mean)]
            })
    }
}

/// The progress line `temper eval` keeps on standard error while it runs.
final class EvalProgress {
    private var shown = false
    private var last = Date.distantPast

    /// Rewrites the line for `p`, at most five times a second (and always at the end of a run).
    func show(_ p: SearchSweep.Progress) {
        guard p.done == p.total || Date().timeIntervalSince(last) >= 0.2 else { return }
        last = Date()
        let line = "eval: \(p.search) budget \(p.budget) seed \(p.seed): \(p.done)/\(p.total) items, \(p.correct) correct"
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
        shown = true
    }

    /// Prints a warning on its own line.
    func warn(_ message: String) {
        finish()
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }

    /// Ends the progress line.
    func finish() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
        shown = false
    }
}
