import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `temper quickstart` end to end at a tiny size: every stage runs through the plugins by name
/// (sft, grpo, full, adamw, greedy, self-consistency, best-of-n, math-equiv, length), and every
/// figure of the table is recomputed here from the files the stage wrote.
final class QuickstartTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["sft", "grpo", "full", "adamw", "greedy", "self-consistency", "best-of-n", "math-equiv", "length"])
    }

    /// The smallest pipeline that still runs every part: 2 seeds, 3 SFT and 2 GRPO steps, 6
    /// held-out problems, 2 samples per search, the hack run.
    static func tinySettings(_ folder: URL) -> Quickstart.Settings {
        var s = Quickstart.Settings()
        s.outputDir = folder.path
        s.seeds = 2
        s.trainProblems = 40
        s.heldOut = 6
        s.sftSteps = 3
        s.sftBatchSize = 8
        s.grpoSteps = 2
        s.promptsPerStep = 2
        s.numGenerations = 2
        s.searchSamples = 2
        s.maxNewTokens = 12
        s.hack = true
        s.hackSteps = 2
        s.hackProxy = "length:correct_reward=none,max_len=12"
        s.hiddenSize = 16
        s.layers = 1
        s.heads = 2
        return s
    }

    func testEveryFigureOfTheTableComesFromItsStagesOwnFiles() throws {
        let folder = try makeTemporaryFolder("quickstart")
        var said: [String] = []
        let result = try Quickstart(settings: Self.tinySettings(folder)).run(reporter: nil) { said.append($0) }
        let summary = result.summary

        XCTAssertEqual(summary.task, "long-addition:digits=3")
        XCTAssertEqual(summary.seeds, [0, 1])
        XCTAssertEqual(summary.stages, ["base", "sft", "grpo"])
        XCTAssertEqual(summary.columns, ["pass@1", "maj@2", "best-of-2", "tokens/answer"])
        XCTAssertEqual(summary.hack, QuickstartSummary.Hack(proxy: "length:correct_reward=none,max_len=12", run: "seed-0/hack"))
        var expectedRuns = ["seed-0/hack"]
        for seed in 0..<2 { expectedRuns += ["sft", "grpo", "eval-base", "eval-sft", "eval-grpo"].map { "seed-\(seed)/\($0)" } }
        XCTAssertEqual(Set(summary.runs.keys), Set(expectedRuns))
        for (name, path) in summary.runs { XCTAssertEqual(name, path) }
        // quickstart.json holds exactly what the run returned.
        XCTAssertEqual(try QuickstartSummary.read(from: folder), summary)

        for row in summary.rows {
            for seed in 0..<2 {
                let items = try Self.items(folder.appendingPathComponent("seed-\(seed)/eval-\(row.stage)/items.jsonl"))
                func mean(_ search: String, _ value: ([String: Any]) -> Double) -> Double {
                    let rows = items.filter { $0["search"] as? String == search }
                    XCTAssertEqual(rows.count, 6, "\(row.stage) seed \(seed) \(search)")
                    return rows.map(value).reduce(0, +) / Double(rows.count)
                }
                let correct = { (r: [String: Any]) in (r["correct"] as? Bool) == true ? 1.0 : 0.0 }
                XCTAssertEqual(row.values["pass@1"]?.perSeed[seed], mean("greedy", correct), "\(row.stage) seed \(seed)")
                XCTAssertEqual(row.values["maj@2"]?.perSeed[seed], mean("self-consistency", correct))
                XCTAssertEqual(row.values["best-of-2"]?.perSeed[seed], mean("best-of-n", correct))
                XCTAssertEqual(row.values["tokens/answer"]?.perSeed[seed], mean("greedy") { ($0["tokens_generated"] as? NSNumber)?.doubleValue ?? -1 })
            }
            // mean and sample standard deviation over the two seeds.
            for (name, cell) in row.values {
                let v = cell.perSeed
                XCTAssertEqual(cell.mean, (v[0] + v[1]) / 2, accuracy: 1e-12, name)
                XCTAssertEqual(cell.spread, abs(v[0] - v[1]) / 2.0.squareRoot(), accuracy: 1e-12, name)
            }
        }

        // Forgetting: each training run logged general_perplexity at step 0 and at its last step,
        // with the before value and the change; the result's means are those of the runs' logs.
        var before: [String: [Double]] = [:], after: [String: [Double]] = [:]
        for seed in 0..<2 {
            for (stage, steps) in [("sft", 3), ("grpo", 2)] {
                let log = try Self.metrics(folder.appendingPathComponent("seed-\(seed)/\(stage)/metrics.jsonl"))
                let first = try XCTUnwrap(log.first { $0["general_perplexity"] != nil })
                let last = try XCTUnwrap(log.last { $0["general_perplexity"] != nil })
                XCTAssertEqual(first["step"], 0)
                XCTAssertEqual(last["step"], Double(steps))
                XCTAssertEqual(last["general_perplexity_before"], first["general_perplexity"])
                XCTAssertEqual(try XCTUnwrap(last["general_perplexity_change"]),
                               try XCTUnwrap(last["general_perplexity"]) - (try XCTUnwrap(first["general_perplexity"])), accuracy: 1e-12)
                before[stage, default: []].append(first["general_perplexity"]!)
                after[stage, default: []].append(last["general_perplexity"]!)
                if stage == "grpo" { XCTAssertEqual(log.filter { $0["gold_reward"] != nil }.count, 2, "gold_reward logged every GRPO step") }
            }
        }
        XCTAssertEqual(result.forgetting.map(\.stage), ["sft", "grpo"])
        for f in result.forgetting {
            XCTAssertEqual(f.before, before[f.stage]!.reduce(0, +) / 2, accuracy: 1e-12)
            XCTAssertEqual(f.after, after[f.stage]!.reduce(0, +) / 2, accuracy: 1e-12)
        }

        // Reward hacking: the curve ends are the hack run's first and last logged steps.
        let hackLog = try Self.metrics(folder.appendingPathComponent("seed-0/hack/metrics.jsonl")).filter { $0["reward"] != nil }
        let hack = try XCTUnwrap(result.hack)
        XCTAssertEqual(hackLog.count, 2)
        XCTAssertEqual(hack.proxyStart, hackLog[0]["reward"])
        XCTAssertEqual(hack.proxyEnd, hackLog[1]["reward"])
        XCTAssertEqual(hack.goldStart, hackLog[0]["gold_reward"])
        XCTAssertEqual(hack.goldEnd, hackLog[1]["gold_reward"])
        XCTAssertEqual(hack.steps, 2)

        // The data files and the saved model other commands read.
        for file in ["data/sft.jsonl", "data/prompts.jsonl", "data/heldout.jsonl", "data/general-text.txt", "model/config.json",
                     "model/model.safetensors", "seed-1/grpo/model.safetensors", "seed-0/eval-grpo/summary.csv"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(file).path), file)
        }
        XCTAssertTrue(said.contains { $0.hasPrefix("seed-1/sft: 3 steps in ") && $0.contains("general-text perplexity ") }, "\(said)")
    }

    func testBadSettingsAreNamedBeforeAnyWork() throws {
        let folder = try makeTemporaryFolder("quickstart-bad")
        var s = Self.tinySettings(folder)
        s.task = "long-addition:digitz=2"
        XCTAssertEqual(errorMessage { _ = try Quickstart(settings: s).run(reporter: nil) { _ in } },
                       "long-addition: unknown parameter 'digitz'. Did you mean 'digits'? (parameters: digits)")
        s = Self.tinySettings(folder)
        s.stages = [.grpo]
        XCTAssertEqual(errorMessage { _ = try Quickstart(settings: s).run(reporter: nil) { _ in } },
                       "quickstart: --hack trains from the SFT model; keep sft in --stages")
        XCTAssertEqual(errorMessage { _ = try QuickstartRecipe.settings(recipe: [("stages", .list([.text("sft"), .text("rl")]))], flags: []) },
                       "quickstart: stages: unknown stage 'rl' (stages: sft, grpo, search)")
        XCTAssertEqual(errorMessage { _ = try QuickstartRecipe.settings(recipe: [("seeds", .text("0"))], flags: []) }?.hasPrefix("quickstart: seeds"), true)
        XCTAssertEqual(errorMessage { _ = try QuickstartRecipe.settings(recipe: [], flags: [("flawed_demonstrations", .text("2"))]) },
                       "quickstart: flawed_demonstrations=2 is out of range [0, 1]")
    }

    /// The recipe's fields with the flags in their place.
    func testFlagsOverrideTheRecipe() throws {
        let s = try QuickstartRecipe.settings(recipe: [("seeds", .text("5")), ("sft_steps", .text("7")), ("model", .text("m.gguf")),
                                                       ("flawed_demonstrations", .text("0.3"))],
                                              flags: [("seeds", .text("1")), ("flawed_demonstrations", .text("0"))])
        XCTAssertEqual(s.seeds, 1)
        XCTAssertEqual(s.sftSteps, 7)
        XCTAssertEqual(s.model, "m.gguf")
        XCTAssertEqual(s.flawedDemonstrations, 0)
        XCTAssertEqual(s.stages, [.sft, .grpo, .search])
    }

    static func items(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    static func metrics(_ url: URL) throws -> [[String: Double]] {
        try items(url).map { $0.compactMapValues { ($0 as? NSNumber)?.doubleValue } }
    }
}
