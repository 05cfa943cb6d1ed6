import ArgumentParser
import Foundation
import TemperCore

/// `temper quickstart`: the pipeline SFT → GRPO → test-time search on a tiny built-in model, over
/// seeds, with forgetting and (with --hack) reward hacking measured beside it.
struct QuickstartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Run SFT → GRPO → test-time search on a tiny built-in model and print pass@1, maj@8, best-of-8 and tokens per answer after each stage.",
        discussion: """
            Needs no download: the model, tokenizer and task data are made on the spot. Per seed it evaluates the base model, \
            trains with sft on the task's worked solutions (by default \(Int((Self.defaults.flawedDemonstrations * 100).rounded())) % of those whose top column carries drop the carry — a careless \
            teacher's slip that SFT imitates and the verifier-graded GRPO can correct; --flawed_demonstrations 0 for none), evaluates, trains with grpo and the task's reward, and evaluates \
            again; every evaluation runs greedy, self-consistency and best-of-n (with the task's checker as oracle verifier) on \
            the held-out problems. Prints one table (stage × metric, mean ± sample standard deviation over seeds) and writes \
            quickstart.json beside the run folders (seed-N/sft, seed-N/eval-sft, ...). Every training run logs the general-text \
            perplexity before and after (forgetting) and GRPO logs gold_reward beside its reward; --hack also trains GRPO on a \
            gameable proxy and shows proxy reward against gold. --recipe FILE reads every setting from YAML (flags override); \
            `temper quickstart --recipe examples/recipes/pipeline-smollm2.yaml` runs the pipeline on SmolLM2. About 5 minutes \
            on two cores (release build) with the defaults.
            """
    )

    @Option(help: "A YAML file of quickstart settings (output_dir, model, task, stages, seeds, sft_steps, grpo_steps, ...).")
    var recipe: String?
    @Option(name: .customLong("output_dir"), help: "Where the data, run folders and quickstart.json go (default \(Self.defaults.outputDir)).")
    var outputDir: String?
    @Option(help: "Built-in verifiable task and options (default \(Self.defaults.task); temper data tasks lists them).")
    var task: String?
    @Option(help: "Stages after the base evaluation, comma-separated (default sft,grpo,search).")
    var stages: String?
    @Option(help: "Pipeline runs, seeds 0…N−1 (default \(Self.defaults.seeds)).")
    var seeds: Int?
    @Option(name: .customLong("sft_steps"), help: "SFT steps (default \(Self.defaults.sftSteps)).")
    var sftSteps: Int?
    @Option(name: .customLong("grpo_steps"), help: "GRPO steps (default \(Self.defaults.grpoSteps)).")
    var grpoSteps: Int?
    @Option(name: .customLong("flawed_demonstrations"),
            help: "Share of SFT demonstrations with the task's slip, among those that can have it (default \(Self.defaults.flawedDemonstrations)).")
    var flawedDemonstrations: Double?
    @Option(name: .customLong("max_steps"), help: "Cap on every training stage's steps.")
    var maxSteps: Int?
    @Option(name: .customLong("held_out"), help: "Held-out problems per evaluation (default \(Self.defaults.heldOut)).")
    var heldOut: Int?
    @Flag(help: "Also train GRPO on a gameable proxy reward (shorter is better) and show proxy reward rising while gold accuracy falls.")
    var hack = false

    @OptionGroup var options: PluginOptions

    /// The settings without a recipe or flags, for the help text.
    static let defaults = Quickstart.Settings()

    func run() throws {
        options.loadPlugins()
        var flags: [(key: String, value: RawParameterValue)] = []
        func flag(_ key: String, _ value: CustomStringConvertible?) { if let value { flags.append((key, .text(value.description))) } }
        flag("output_dir", outputDir)
        flag("task", task)
        if let stages { flags.append(("stages", .list(stages.split(separator: ",").map { .text($0.trimmingCharacters(in: .whitespaces)) }))) }
        flag("seeds", seeds)
        flag("sft_steps", sftSteps)
        flag("grpo_steps", grpoSteps)
        flag("flawed_demonstrations", flawedDemonstrations)
        flag("max_steps", maxSteps)
        flag("held_out", heldOut)
        if hack { flag("hack", "true") }
        let live = LiveLine()
        do {
            let settings = try QuickstartRecipe.settings(recipe: try recipe.map(QuickstartRecipe.load) ?? [], flags: flags)
            let result = try Quickstart(settings: settings).run(progress: live.show) { line in
                live.finish()
                print(line)
                fflush(stdout)
            }
            live.finish()
            print(Self.report(result, settings: settings))
            RunReport.writeOrWarn(folder: URL(fileURLWithPath: settings.outputDir))
        } catch let e as SpecError {
            live.finish()
            throw CommandError(description: e.message)
        } catch let e as TrainingError {
            live.finish()
            throw CommandError(description: e.description)
        }
    }

    /// The table, the challenges and the closing line.
    static func report(_ r: Quickstart.Result, settings s: Quickstart.Settings) -> String {
        let summary = r.summary
        var lines = ["", "held-out results, \(summary.task), mean ± sample std over \(summary.seeds.count) seed\(summary.seeds.count == 1 ? "" : "s"):",
                     table(summary), perSeed(summary)] + (summary.demonstrations.map { [$0] } ?? []) + [""]
        for f in r.forgetting {
            lines.append(String(format: "forgetting, %@: general-text perplexity %.2f before → %.2f after (%+.2f; mean over seeds)",
                                f.stage, f.before, f.after, f.after - f.before))
        }
        if let h = r.hack {
            lines.append(String(format: "reward hacking (seed-0/hack, GRPO on proxy %@): proxy reward %.3f → %.3f while gold accuracy %.3f → %.3f " +
                                "(means of the first and last fifth of %d steps; seed-0/hack/metrics.jsonl: reward, gold_reward)", s.hackProxy, h.proxyStart, h.proxyEnd, h.goldStart, h.goldEnd, h.steps))
        }
        lines.append("inference-time trade-off: accuracy against tokens per answer for every strategy in each seed-N/eval-*/summary.csv and accuracy-vs-compute.svg")
        let out = URL(fileURLWithPath: s.outputDir).appendingPathComponent(QuickstartSummary.fileName).path
        lines.append(String(format: "quickstart finished in %@: pass@1 %@; table in %@", StepProgress.duration(r.seconds),
                            summary.rows.map { row in String(format: "%@ %.1f%%", row.stage, 100 * (row.values["pass@1"]?.mean ?? .nan)) }
                                .joined(separator: " → "), out))
        return lines.joined(separator: "\n")
    }

    /// Each stage's pass@1 seed by seed ("pass@1 % by seed (0, 1, 2): base 0 / 0 / 0, sft 44 / …"):
    /// whether a stage gains on every seed, which the mean ± spread does not show.
    static func perSeed(_ summary: QuickstartSummary) -> String {
        "pass@1 % by seed (\(summary.seeds.map(String.init).joined(separator: ", "))): " + summary.rows.map { row in
            row.stage + " " + (row.values["pass@1"]?.perSeed ?? []).map { String(format: "%.0f", 100 * $0) }.joined(separator: " / ")
        }.joined(separator: ", ")
    }

    /// The stage × metric table: mean ± spread over seeds, accuracies in percent.
    static func table(_ summary: QuickstartSummary) -> String {
        TextTable.render(
            header: ["STAGE"] + summary.columns.map { $0 == "tokens/answer" ? "TOKENS/ANSWER" : $0.uppercased() + " %" },
            rows: summary.rows.map { row in
                [row.stage] + summary.columns.map { name in
                    guard let c = row.values[name] else { return "–" }
                    let scale = name == "tokens/answer" ? 1.0 : 100.0
                    return String(format: "%.1f ± %.1f", scale * c.mean, scale * c.spread)
                }
            })
    }
}

/// The quickstart's progress line on standard error: redrawn in place on a terminal (at most five
/// times a second), a line per stage change otherwise.
final class LiveLine {
    private let interactive = isatty(2) == 1
    private var shown = false
    private var last = Date.distantPast
    private var lastStage = ""

    /// Shows `text` ("seed-0/eval-sft: greedy 40/100 items, 21 correct").
    func show(_ text: String) {
        let stage = String(text.prefix { $0 != ":" })
        if interactive {
            guard Date().timeIntervalSince(last) >= 0.2 || stage != lastStage else { return }
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            shown = true
        } else if stage != lastStage {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
        last = Date()
        lastStage = stage
    }

    /// Ends the line so other output starts on its own.
    func finish() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
        shown = false
    }
}
