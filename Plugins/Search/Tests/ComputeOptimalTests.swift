import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// compute-optimal, loaded from the built libTemperPluginSearch.so: routing by the difficulty its
/// probes measure, and the table file's errors.
final class ComputeOptimalTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["compute-optimal", "greedy", "self-consistency"])
    }

    private func writeTable(_ json: String) throws -> String {
        let path = try makeTemporaryFolder("compute-optimal").appendingPathComponent("table.json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Easy questions (bin 0) go to greedy, hard ones (bin 1) to self-consistency with 4 samples.
    private let table = """
        {"format": "temper-compute-optimal/1", "probe_samples": 2, "bins": 2, "choices": [
          {"bin": 0, "budget": 4, "search": "greedy", "accuracy": 1, "tokens_per_answer": 6, "items": 3},
          {"bin": 1, "budget": 1, "search": "greedy", "accuracy": 0, "tokens_per_answer": 6, "items": 3},
          {"bin": 1, "budget": 4, "search": "self-consistency", "accuracy": 0.5, "tokens_per_answer": 24, "items": 3}]}
        """

    func testRoutesEachQuestionByTheDifficultyOfItsProbes() throws {
        let path = try writeTable(table)
        // "easy" is always answered 5 (right); "hard" alternates 3 and 9 (the reference is 9).
        let model = ScriptedLanguageModel { prompt, k in prompt == "easy" ? "#### 5" : ["#### 3", "#### 9"][k % 2] }
        var r = request(model, ["easy", "hard"], samples: 4, verifier: ExactAnswer(), columns: ["answer": [.string("5"), .string("9")]])
        let result = try ComponentRegistry.shared.search("compute-optimal:table=\(path)").search(r)
        XCTAssertEqual(texts(result, 0), ["#### 5"], "easy: both probes right, d = 0, bin 0: greedy")
        XCTAssertEqual(texts(result, 1), ["#### 3", "#### 3", "#### 9", "#### 9"], "hard: d = 0.5, bin 1: self-consistency@4 (a tie: first answer)")
        // 7 tokens a sample (6 characters, end of sequence). Probes 2 × 7, greedy 7; probes 2 × 7, self-consistency 4 × 7.
        XCTAssertEqual(result.usage.tokensGenerated, 14 + 7 + 14 + 28)

        // Unscored probes count as wrong: every question is in bin 1, where only greedy fits 2 samples.
        r.budget.samplesPerPrompt = 2
        r.verifier = ScriptedReward { _ in nil }
        let routed = try ComponentRegistry.shared.search("compute-optimal:table=\(path)").search(r)
        XCTAssertEqual(routed.candidates.map(\.count), [1, 1])
    }

    /// A scripted model that notes the sampler seed of each `generate`.
    final class SeedRecorder: ForwardingLanguageModel {
        var seeds: [UInt64] = []
        init() { super.init(ScriptedLanguageModel { _, k in ["#### 3", "#### 9"][k % 2] }) }
        override func generate(prompts: [[Int32]], options: GenerationOptions) throws -> [[GeneratedSequence]] {
            seeds.append(options.seed)
            return try super.generate(prompts: prompts, options: options)
        }
    }

    func testProbesDrawFromAnotherStreamThanTheRoutedSearch() throws {
        let path = try writeTable(table)
        let model = SeedRecorder()
        var r = request(model, ["hard"], samples: 4, verifier: ExactAnswer(), columns: ["answer": [.string("9")]])
        r.generation.seed = 42
        _ = try ComponentRegistry.shared.search("compute-optimal:table=\(path)").search(r)
        XCTAssertEqual(model.seeds.count, 2, "the probes, then self-consistency@4")
        XCTAssertEqual(model.seeds.last, 42, "the routed search samples with the request's seed")
        XCTAssertEqual(model.seeds.first, SearchSweep.itemSeed(~42, item: 0))
        XCTAssertNotEqual(model.seeds.first, 42)
    }

    func testTableErrorsNameTheFileAndTheField() throws {
        let missing = try writeTable(#"{"format": "temper-compute-optimal/1", "bins": 2, "choices": []}"#)
        XCTAssertThrowsError(try ComponentRegistry.shared.search("compute-optimal:table=\(missing)")) { error in
            XCTAssertEqual("\(error)", "compute-optimal table \(missing): missing field 'probe_samples'")
        }
        let badBin = try writeTable(table.replacingOccurrences(of: #""bin": 1, "budget": 1"#, with: #""bin": 5, "budget": 1"#))
        XCTAssertThrowsError(try ComponentRegistry.shared.search("compute-optimal:table=\(badBin)")) { error in
            XCTAssertEqual("\(error)", "compute-optimal table \(badBin): choices[1].bin is 5, expected 0..<2")
        }
        let loop = try writeTable(table.replacingOccurrences(of: #""search": "greedy""#, with: #""search": "compute-optimal""#))
        XCTAssertThrowsError(try ComponentRegistry.shared.search("compute-optimal:table=\(loop)")) { error in
            XCTAssertEqual("\(error)", "compute-optimal table \(loop): choices[0] routes to compute-optimal itself")
        }
        let path = try writeTable(table)
        let model = ScriptedLanguageModel { _, _ in "#### 1" }
        XCTAssertThrowsError(try ComponentRegistry.shared.search("compute-optimal:table=\(path)")
            .search(request(model, ["q"], samples: 2, verifier: ExactAnswer(), columns: ["answer": [.string("1")]]))) { error in
            XCTAssertEqual("\(error)", "compute-optimal table: difficulty bin 0 has budgets 4; none fits a budget of 2 samples")
        }
    }
}

/// 1 when the text after "#### " equals the `answer` column, else 0.
struct ExactAnswer: RewardScoring {
    func score(_ batch: RewardBatch) throws -> [Float?] {
        let answers = try batch.column("answer", for: "exact")
        return zip(batch.completions, answers).map { $0 == "#### " + $1.text ? 1 : 0 }
    }
}
