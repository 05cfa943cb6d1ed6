import ArgumentParser
import Foundation
import TemperCore

/// `temper quickstart`: train a tiny built-in model on synthetic addition chats and show that it learned.
struct QuickstartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Build a tiny Llama, fine-tune it with SFT on an addition task, and print held-out accuracy before and after.",
        discussion: "Needs no download: the model, tokenizer and data are made on the spot. A few minutes on two cores (release build)."
    )

    @Option(name: .customLong("output_dir"), help: "Where data, checkpoints and metrics.jsonl go.")
    var outputDir = "runs/quickstart"

    @Option(name: .customLong("max_steps"), help: "Optimizer steps.")
    var maxSteps = Quickstart.Settings().maxSteps

    @Option(help: "Digits per operand.")
    var digits = Quickstart.Settings().digits

    @Option(help: "Seed for the model, the data and the run.")
    var seed = 0

    @OptionGroup var options: PluginOptions

    func run() throws {
        options.loadPlugins()
        var settings = Quickstart.Settings()
        settings.outputDir = outputDir
        settings.maxSteps = maxSteps
        settings.digits = digits
        settings.seed = seed
        do {
            let result = try Quickstart(settings: settings).run { print($0); fflush(stdout) }
            for e in result.examples { print("  \(e.question)\(e.got)\(e.got == e.expected ? "  ✓" : "  ✗ (expected \(e.expected))")") }
            RunReport.writeOrWarn(folder: URL(fileURLWithPath: outputDir))
        } catch let e as SpecError {
            throw CommandError(description: e.message)
        } catch let e as TrainingError {
            throw CommandError(description: e.description)
        }
    }
}
