import ArgumentParser
import Foundation
import TemperCore

/// `temper data`: datasets of verifiable tasks.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Generate datasets of tasks with checkable answers.",
        subcommands: [Make.self, Tasks.self]
    )

    /// `temper data make <task> --n N --seed S`: seeded JSONL in TRL's prompt-only shape.
    struct Make: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write N problems of a task as JSONL: {\"prompt\": [...], \"answer\": ..., <task columns>}.",
            discussion: "Task options follow the task name as --name value (see `temper data tasks`). Train and test "
                + "splits never share a problem, whatever seeds and sizes made them."
        )

        @Argument(help: "Task name (see `temper data tasks`).")
        var task: String

        @Option(name: .customLong("n"), help: "Number of problems.")
        var count: Int

        @Option(help: "Seed: the same seed, options and split give the same file on every platform.")
        var seed: UInt64 = 0

        @Option(help: "Which split of the problem space to draw from (train, test).")
        var split: TaskSplit = .train

        @Option(help: "Output file (written atomically); standard output when omitted.")
        var output: String?

        @Flag(help: "Write the prompt as a plain string instead of a one-message conversation.")
        var plain = false

        @Flag(name: .customLong("with-solution"), help: "Add a 'solution' column holding a completion that earns full reward.")
        var withSolution = false

        @Flag(help: "Write preference pairs instead (prompt, chosen = a correct solution, rejected = the same with a wrong answer), for dpo, reward-modeling and friends.")
        var preference = false

        @Flag(help: "Write step-labelled chains instead (prompt, completions = steps, labels; about half with one wrong step, it and every later step labelled false), for prm. Task arithmetic-chain.")
        var steps = false

        @Argument(parsing: .allUnrecognized, help: "Task options, e.g. --digits 3.")
        var taskOptions: [String] = []

        func run() throws {
            let examples: [TaskExample]
            let reward: String
            do {
                let t = try TaskCatalog.make(task, options: try Self.parseOptions(taskOptions))
                reward = t.reward
                examples = try TaskDataset.generate(t, count: count, seed: seed, split: split)
            } catch let e as SpecError {
                throw CommandError(description: e.message)
            }
            guard !(preference && steps) else { throw CommandError(description: "--preference and --steps write different rows: give one") }
            let text: String
            do {
                text = preference ? try TaskPreferencePairs.jsonl(examples, seed: seed, plain: plain)
                    : steps ? try TaskStepChains.jsonl(examples, seed: seed)
                    : TaskDataset.jsonl(examples, plain: plain, withSolution: withSolution)
            } catch let e as SpecError {
                throw CommandError(description: e.message)
            }
            guard let output else {
                FileHandle.standardOutput.write(Data(text.utf8))
                return
            }
            let file = URL(fileURLWithPath: output)
            do {
                try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
                try AtomicFileWriter.write(Data(text.utf8), to: file)
            } catch {
                throw CommandError(description: "cannot write \(output): \(error)")
            }
            let what = preference ? "preference pairs" : steps ? "step-labelled chains" : "problems"
            let use = steps ? "train a process reward model with --objective prm" : "grade with --reward \(reward)"
            FileHandle.standardError.write(Data("wrote \(examples.count) \(split.rawValue) \(what) of \(task) to \(output) (\(use))\n".utf8))
        }

        /// `--digits 3`, `--digits=3` and a bare `--descending` (true) as parameter settings; dashes in
        /// names become underscores (`--max-number` sets `max_number`).
        static func parseOptions(_ words: [String]) throws -> [(key: String, value: RawParameterValue)] {
            var settings: [(key: String, value: RawParameterValue)] = []
            var i = 0
            while i < words.count {
                let word = words[i]
                guard word.hasPrefix("--"), word.count > 2 else {
                    throw SpecError("unexpected argument '\(word)': task options are written --name value")
                }
                var name = String(word.dropFirst(2)), value: String
                if let eq = name.firstIndex(of: "=") {
                    value = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                } else if i + 1 < words.count, !words[i + 1].hasPrefix("--") {
                    value = words[i + 1]
                    i += 1
                } else {
                    value = "true"
                }
                settings.append((name.replacingOccurrences(of: "-", with: "_"), .text(value)))
                i += 1
            }
            return settings
        }
    }

    /// `temper data tasks`: the built-in tasks, their options and rewards.
    struct Tasks: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the built-in tasks with their options and the reward that grades them.")

        func run() throws {
            for t in TaskCatalog.all {
                let reward = try TaskCatalog.make(t.name).reward
                print("\(t.name): \(t.summary) (reward: \(reward))")
                for p in t.parameters {
                    print("  --\(p.name.replacingOccurrences(of: "_", with: "-")) \(p.type) (default \(p.defaultValue?.description ?? "required")): \(p.doc)")
                }
            }
        }
    }
}

extension TaskSplit: @retroactive ExpressibleByArgument {}
