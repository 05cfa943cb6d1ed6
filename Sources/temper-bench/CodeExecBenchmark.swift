import ArgumentParser
import Foundation
import TemperCore

/// `temper-bench code-exec`: sandboxed runs per second of the `code-exec` reward, each run a fresh
/// sandbox executing a small MBPP-style solution against three asserts (the realistic case for RL:
/// short programs, where process and namespace setup dominate).
struct CodeExecBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "code-exec",
        abstract: "Sandboxed Python runs per second of the code-exec reward."
    )

    @Option(name: .long, help: "Completions scored per timed batch.")
    var runs: Int = 200

    @Option(name: .long, help: "Runs at once (the reward's `parallel`); 0 = one per core.")
    var parallel: Int = 0

    @Option(name: .long, help: "auto, namespaces or rlimits (the reward's `isolation`).")
    var isolation: String = "auto"

    @Option(name: .long, help: "Timed batches; the best counts, the median is shown too.")
    var rounds: Int = 3

    func validate() throws {
        guard runs > 0 else { throw ValidationError("--runs must be positive, got \(runs)") }
        guard parallel >= 0 else { throw ValidationError("--parallel must be 0 or more, got \(parallel)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
    }

    func run() throws {
        let report = PluginLoader.shared.load(.standard())
        guard ComponentRegistry.shared.descriptor(named: "code-exec") != nil else {
            throw ValidationError("the code-exec reward is not registered (is libTemperPluginRewards.so next to temper-bench?) \(report)")
        }
        let reward = try ComponentRegistry.shared.reward("code-exec:parallel=\(parallel),isolation=\(isolation)").reward
        let right = "```python\ndef add(a, b):\n    return a + b\n```"
        let wrong = "```python\ndef add(a, b):\n    return a * b\n```"
        let tests: ColumnValue = .array([.string("assert add(1, 2) == 3"), .string("assert add(-1, 1) == 0"), .string("assert add(2, 2) == 4")])
        let completions = (0..<runs).map { $0 % 2 == 0 ? right : wrong }
        let batch = RewardBatch(prompts: completions.map { _ in "" }, completions: completions,
                                columns: ["tests": Array(repeating: tests, count: runs)])
        _ = try reward.score(RewardBatch(prompts: [""], completions: [right], columns: ["tests": [tests]]))  // probe + warm-up
        var rates: [Double] = []
        for _ in 0..<rounds {
            let start = Date()
            let scores = try reward.score(batch)
            let seconds = Date().timeIntervalSince(start)
            let expected = completions.indices.map { $0 % 2 == 0 ? Float(1) : Float(1) / 3 }
            if let bad = completions.indices.first(where: { scores[$0] != expected[$0] }) {
                throw ValidationError("code-exec scored completion \(bad) \(scores[bad].map { "\($0)" } ?? "nil"), expected \(expected[bad]); the benchmark would be meaningless")
            }
            rates.append(Double(runs) / seconds)
        }
        let sorted = rates.sorted()
        let workers = parallel == 0 ? ProcessInfo.processInfo.activeProcessorCount : parallel
        print(String(format: "code-exec: %d runs x %d rounds, %d at once, isolation=%@ on %d cores: best %.1f runs/s, median %.1f runs/s",
                     runs, rounds, workers, isolation, ProcessInfo.processInfo.activeProcessorCount, sorted.last!, sorted[sorted.count / 2]))
    }
}
