import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `temper eval`'s engine on a scripted model: every figure of a row and of an item's record worked
/// out by hand, and the routing table it builds.
final class SearchSweepTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["sampling", "greedy", "best-of-n", "self-consistency"]) }

    /// 1 when the text is "#### " + the answer column.
    struct Exact: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] {
            let answers = try batch.column("answer", for: "exact")
            return zip(batch.completions, answers).map { $0 == "#### " + $1.text ? 1 : 0 }
        }
    }

    func testSweepFiguresOnAScriptedModel() throws {
        // "a" (answer 1) is always right; "b" (answer 6) alternates right, wrong, right, ...
        let model = ScriptedLanguageModel { prompt, k in prompt == "a" ? "#### 1" : ["#### 6", "#### 5"][k % 2] }
        var sweep = try SearchSweep(searches: ["sampling"], budgets: [2], seeds: 2, generation: GenerationOptions(maxNewTokens: 16),
                                    reward: Exact(), probeSamples: 2, bins: 2)
        sweep.verifier = Exact()
        sweep.verifierLabel = "oracle"
        var records: [SweepItemRecord] = []
        var lastProgress: SearchSweep.Progress?
        let outcome = try sweep.run(model: model, prompts: ["a", "b"], columns: ["answer": [.string("1"), .number(6)]],
                                    progress: { lastProgress = $0 }, record: { records.append($0) })
        XCTAssertEqual(outcome.rows.count, 1)
        let row = outcome.rows[0]
        XCTAssertEqual(row.accuracy, MeanSpread(mean: 1, std: 0))
        XCTAssertEqual(row.passAt1, MeanSpread(mean: 0.75, std: 0), "a: 2/2, b: 1/2")
        XCTAssertEqual(row.passAtK, MeanSpread(mean: 1, std: 0))
        XCTAssertEqual(row.majAtK, MeanSpread(mean: 0.5, std: 0),
                       "b's tie goes to the answer first in text order, 5 (wrong), whatever the verifier ranked first")
        XCTAssertEqual(row.tokensPerAnswer, MeanSpread(mean: 14, std: 0), "2 samples of 6 characters and an end-of-sequence token")
        XCTAssertEqual(records.map(\.seed), [0, 0, 1, 1])
        XCTAssertEqual(lastProgress?.done, 2)
        XCTAssertEqual(lastProgress?.correct, 2)
        var b = records[1]
        b.seconds = 0.25
        XCTAssertEqual(b.json, #####"{"search":"sampling","budget":2,"seed":0,"item":1,"answer":"#### 6","answer_score":1,"correct":true,"##### +
                       #####""candidates":2,"correct_candidates":1,"pass_at_1":0.5,"pass_at_k":1,"maj_at_k":false,"tokens_generated":14,"##### +
                       #####""tokens_scored":1,"forward_passes":7,"seconds":0.25,"scoring_failures":[]}"#####)
        // Probes: a is never wrong (d = 0, bin 0), b half the time (d = 0.5, bin 1).
        XCTAssertEqual(outcome.table, ComputeOptimalTable(probeSamples: 2, bins: 2, choices: [
            .init(bin: 0, budget: 2, search: "sampling", accuracy: 1, tokensPerAnswer: 14, items: 2),
            .init(bin: 1, budget: 2, search: "sampling", accuracy: 1, tokensPerAnswer: 14, items: 2),
        ]))
        XCTAssertEqual(outcome.probeUsage.tokensGenerated, 2 * 2 * 2 * 7)
    }

    /// Prefers completions ending in "5": a verifier that disagrees with the grader.
    struct LikesFive: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] { batch.completions.map { $0.hasSuffix("5") ? 1 : 0 } }
    }

    func testStrategiesSelectWithTheVerifierAndOnlyTheRewardGrades() throws {
        // Samples of "q": "#### 5" (wrong), "#### 1" (right), alternating; greedy's one sample is "#### 5".
        func run(verifier: (any RewardScoring)?, label: String?) throws -> [SweepRow] {
            let model = ScriptedLanguageModel { _, k in ["#### 5", "#### 1"][k % 2] }
            var sweep = try SearchSweep(searches: ["greedy", "best-of-n"], budgets: [2], seeds: 1,
                                        generation: GenerationOptions(maxNewTokens: 16), reward: Exact())
            sweep.verifier = verifier
            sweep.verifierLabel = label
            return try sweep.run(model: model, prompts: ["q"], columns: ["answer": [.string("1")]]).rows
        }
        let chosenByVerifier = try run(verifier: LikesFive(), label: "likes-five")
        XCTAssertEqual(chosenByVerifier.map(\.search), ["greedy", "best-of-n (verifier: likes-five)"])
        XCTAssertEqual(chosenByVerifier.map(\.accuracy.mean), [0, 0], "the verifier picks #### 5; the grader marks it wrong")
        XCTAssertEqual(chosenByVerifier[1].passAtK.mean, 1, "the right answer was among the candidates")
        let oracle = try run(verifier: Exact(), label: "oracle")
        XCTAssertEqual(oracle.map(\.search), ["greedy", "best-of-n (oracle verifier)"])
        XCTAssertEqual(oracle.map(\.accuracy.mean), [0, 1])
        XCTAssertThrowsError(try run(verifier: nil, label: nil)) {
            XCTAssertEqual("\($0)", "best-of-n: needs a verifier to pick the best of 2 samples (temper search: --reward SPEC; " +
                           "temper eval: --verifier SPEC, or --verifier oracle to select with the grading reward)")
        }
    }

    /// Correct when the last number of the completion is the answer.
    struct LastNumber: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] {
            let reader = MathAnswerReader(extract: .lastNumber)
            return zip(batch.completions, try batch.column("answer", for: "last")).map { c, a in
                guard let got = reader.answer(in: c), let want = reader.reference(a.text) else { return 0 }
                return reader.equivalent(want, got) ? 1 : 0
            }
        }
    }

    func testMajorityVoteReadsAnswersWithTheStrategysExtractorElseTheGradersReader() throws {
        // Boxed answers 1, 3, 1 (majority 1: sample 0, wrong); last numbers 4, 2, 2 (majority 2: sample 1, right).
        func majAtK(_ search: String) throws -> Double {
            let model = ScriptedLanguageModel { _, k in ["\\boxed{1} 4", "\\boxed{3} 2", "\\boxed{1} 2"][k % 3] }
            var sweep = try SearchSweep(searches: [search], budgets: [3], seeds: 1, generation: GenerationOptions(maxNewTokens: 16),
                                        reward: LastNumber())
            sweep.answerReader = MathAnswerReader(extract: .lastNumber)
            return try sweep.run(model: model, prompts: ["q"], columns: ["answer": [.string("2")]]).rows[0].majAtK.mean
        }
        XCTAssertEqual(try majAtK("sampling"), 1, "no extract of its own: the grader's last-number reader")
        XCTAssertEqual(try majAtK("self-consistency:extract=boxed"), 0, "its own boxed reader")
    }

    /// Grades as `Exact` does, but cannot grade the completion "boom".
    struct CannotGradeBoom: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] {
            if batch.completions.contains("boom") { throw SpecError("cannot grade 'boom'") }
            return try Exact().score(batch)
        }
    }

    func testAGraderThatThrowsOnOneCandidateFailsOnlyThatCandidateAndSaysSo() throws {
        // "q"'s samples: "#### 1" (right), "boom" (ungradable), "#### 2" (wrong); "a"'s are all right.
        let model = ScriptedLanguageModel { prompt, k in prompt == "a" ? "#### 1" : ["#### 1", "boom", "#### 2"][k % 3] }
        let sweep = try SearchSweep(searches: ["sampling"], budgets: [3], seeds: 1, generation: GenerationOptions(maxNewTokens: 16),
                                    reward: CannotGradeBoom())
        var records: [SweepItemRecord] = []
        let row = try sweep.run(model: model, prompts: ["q", "a"], columns: ["answer": [.string("1"), .string("1")]],
                                record: { records.append($0) }).rows[0]
        XCTAssertEqual(records.map(\.scoringFailures), [["item 0: prompt 0, candidate 1: cannot grade 'boom'"], []])
        XCTAssertEqual(records.map(\.correctCandidates), [1, 3], "the ungradable candidate counts as a wrong one")
        XCTAssertEqual(records.map(\.candidates), [3, 3])
        XCTAssertEqual(records.map(\.correct), [true, true])
        XCTAssertEqual(row.passAt1.mean, (1.0 / 3 + 1) / 2, accuracy: 1e-12)
    }

    func testSweepSettingsOutOfRange() {
        let options = GenerationOptions()
        XCTAssertThrowsError(try SearchSweep(searches: [], budgets: [1], seeds: 1, generation: options, reward: Exact())) {
            XCTAssertEqual("\($0)", "eval: needs at least one --search")
        }
        XCTAssertThrowsError(try SearchSweep(searches: ["greedy"], budgets: [1, 0], seeds: 1, generation: options, reward: Exact())) {
            XCTAssertEqual("\($0)", "eval: budgets must be positive sample counts, got 1,0")
        }
        XCTAssertThrowsError(try SearchSweep(searches: ["greedy"], budgets: [1], seeds: 0, generation: options, reward: Exact())) {
            XCTAssertEqual("\($0)", "eval: --seeds must be at least 1, got 0")
        }
    }
}
