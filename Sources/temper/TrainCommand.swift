import ArgumentParser
import Foundation
import TemperCore

/// `temper train`: fine-tune a model from a YAML recipe and/or flags named like Transformers' arguments.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Fine-tune a model (SFT and other dataset objectives) with a PEFT method and an optimizer.",
        discussion: """
            temper train [RECIPE.yaml] [--FIELD VALUE ...]

            Every recipe field is also a flag (--learning_rate 2e-4, --learning-rate=2e-4); flags override the recipe.
            Components take specs: --peft lora:r=16,alpha=32,target_modules=all-linear --optimizer adamw:lr=2e-4.
            A flag without a value sets a boolean field to true (--packing).

            Fields:
            \(TrainCommand.fieldHelp)
            """
    )

    @OptionGroup var options: PluginOptions

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var arguments: [String] = []

    static var fieldHelp: String {
        let components = "  objective, peft, optimizer: component specs (defaults sft, full, adamw)"
        return ([components] + TrainingRecipe.fields.map { f in
            let names = ([f.name] + f.aliases).joined(separator: ", ")
            return "  \(names) (\(f.type)\(f.defaultValue.map { ", default \($0)" } ?? "")): \(f.doc)"
        }).joined(separator: "\n")
    }

    /// The recipe file (if any) and the flag settings, in order.
    static func parse(_ args: [String]) throws -> (recipe: String?, settings: [(String, String)]) {
        var recipe: String? = nil
        var settings: [(String, String)] = []
        var i = 0
        while i < args.count {
            let arg = args[i]
            guard arg.hasPrefix("--") else {
                guard recipe == nil else { throw CommandError(description: "unexpected argument '\(arg)': only one recipe file is taken") }
                recipe = arg
                i += 1
                continue
            }
            var key = String(arg.dropFirst(2)), value: String
            if let eq = key.firstIndex(of: "=") {
                value = String(key[key.index(after: eq)...])
                key = String(key[..<eq])
            } else if i + 1 < args.count, !args[i + 1].hasPrefix("--") {
                value = args[i + 1]
                i += 1
            } else {
                value = "true"
            }
            settings.append((key.replacingOccurrences(of: "-", with: "_"), value))
            i += 1
        }
        return (recipe, settings)
    }

    func run() throws {
        let (file, settings) = try Self.parse(arguments)
        options.loadPlugins()
        // Under mpirun every rank runs this command; rank 0 alone reports and writes.
        let communicator: any Communicator
        do { communicator = try MPICommunicator.fromEnvironment() } catch let e as TrainingError { throw CommandError(description: e.description) }
        do {
            var recipe = try file.map { try RecipeLoader.load(path: $0) } ?? TrainingRecipe()
            for (key, value) in settings { try recipe.set(key, .text(value), source: "--\(key)") }
            let reporter = communicator.isRoot ? ProgressReporter() : nil
            let session = try TrainingSession(recipe: recipe, reporter: reporter, communicator: communicator)
            reporter?.message("\(recipe.peft?.description ?? "full"): \(session.parameterCount)")
            if communicator.worldSize > 1 {
                reporter?.message("data parallel over \(communicator.worldSize) ranks: \(session.trainer.microBatchesPerStep) micro-batches of " +
                                  "\(session.trainer.config.perDeviceTrainBatchSize) per step")
            }
            let summary = try session.trainer.train(resumeFrom: try session.resumeCheckpoint())
            let written = try session.writeFinalModel()
            guard communicator.isRoot else { return }
            var lines = ["trained \(summary.globalStep) steps in \(String(format: "%.1f", summary.seconds)) s"]
            if let l = summary.lastLoss { lines.append("last loss \(String(format: "%.4f", l))") }
            if let e = summary.evaluation { lines.append("eval \(e.summary)") }
            if summary.skippedSteps > 0 { lines.append("\(summary.skippedSteps) non-finite steps skipped") }
            print(lines.joined(separator: ", "))
            print("wrote " + written.map(\.path).joined(separator: ", ") + "; metrics in \(session.trainer.config.outputDir.path)/metrics.jsonl")
        } catch {
            let message: String?
            switch error {
            case let e as SpecError: message = e.message
            case let e as TrainingError: message = e.description
            case let e as TrainingDataError: message = e.description
            default: message = nil
            }
            // One rank failing leaves the others waiting in a collective: end the whole job.
            if let mpi = communicator as? MPICommunicator, mpi.worldSize > 1 {
                FileHandle.standardError.write(Data("temper train: rank \(mpi.rank) of \(mpi.worldSize): error: \(message ?? "\(error)")\n".utf8))
                mpi.abort(code: 1)
            }
            guard let message else { throw error }
            throw CommandError(description: message)
        }
    }
}
