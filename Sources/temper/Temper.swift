import ArgumentParser
import TemperCore

/// The `temper` command line.
@main
struct Temper: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "temper",
        abstract: "Post-training for language models, built from plugins.",
        version: TemperVersion.string,
        subcommands: [PluginsCommand.self, NewCommand.self, GenerateCommand.self, ChatCommand.self, TrainCommand.self, QuickstartCommand.self, MergeCommand.self, DataCommand.self, RewardCommand.self, SearchCommand.self, EvalCommand.self, ReportCommand.self]
    )
}

extension ComponentKind: @retroactive ExpressibleByArgument {}

/// A failure reported as `Error: <message>` without the usage text (which only helps for syntax errors).
struct CommandError: Error, CustomStringConvertible {
    let description: String
}
