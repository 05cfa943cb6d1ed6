import TemperCore
import TemperTestSupport
import XCTest

final class BeamSearchTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["beam", "dvts", "lookahead"]) }

    func request(_ model: ScriptedLanguageModel, _ scorer: TableStepScorer?, budget: SearchBudget = .init()) -> SearchRequest {
        SearchRequest(model: model, prompts: [StepScript.prompt], stepScorer: scorer, budget: budget)
    }

    func testBeamKeepsTheBestNOfNTimesMCandidatesEachStep() throws {
        let beam = try ComponentRegistry.shared.search("beam:beams=2,expansions=2")
        // Step 1: "0" .1, "1" .9, "2" .5, "3" .2 → keep "1", "2".
        // Step 2: "10" .3, "11" .95, "20" .8, "21" .4 → keep "1|11", "2|20" ("1|10" is pruned though "1" led).
        // Step 3 (solutions end): "110" .2, "111" .7, "200" .85, "201" .1 → "2|20|200", "1|11|111".
        let scorer = TableStepScorer(["0": 0.1, "1": 0.9, "2": 0.5, "3": 0.2, "10": 0.3, "11": 0.95, "20": 0.8, "21": 0.4,
                                      "110": 0.2, "111": 0.7, "200": 0.85, "201": 0.1])
        let model = StepScript.model()
        let result = try beam.search(request(model, scorer))
        XCTAssertEqual(result.texts, [["2|20|200", "1|11|111"]])
        XCTAssertEqual(result.candidates[0].map(\.score), [0.85, 0.7])
        XCTAssertEqual(result.candidates[0][0].sequence.finishReason, .eos)
        XCTAssertEqual(try model.detokenize(result.candidates[0][0].sequence.tokenIDs), "2|20|200\u{0}")
        XCTAssertEqual(scorer.asked, ["0", "1", "2", "3", "1|10", "1|11", "2|20", "2|21", "1|11|110", "1|11|111", "2|20|200", "2|20|201"])
        // Prefill of "Q:" (2 tokens, 1 pass); then 4 rows per step: "k|" (2 steps), "1k|" (3), "11k" + EOS (4).
        // Forks cost nothing: each step decodes from the shared prefix.
        XCTAssertEqual(result.usage, ComputeUsage(tokensGenerated: 36, tokensScored: 2, forwardPasses: 10))
        XCTAssertEqual(result.usage, model.usage)
        XCTAssertEqual(result.failures, [])
    }

    func testACandidateTheScorerFailsOnIsScoredNilCountedAndRankedLast() throws {
        let beam = try ComponentRegistry.shared.search("beam:beams=2,expansions=2,max_steps=1")
        let scorer = TableStepScorer(["0": 0.1, "1": 0.9, "2": 0.5, "3": 0.2], failing: ["2"])
        let result = try beam.search(request(StepScript.model(), scorer))
        // "2" would have been kept; failed, it drops behind "3".
        XCTAssertEqual(result.texts, [["1", "3"]])
        XCTAssertEqual(result.candidates[0].map(\.score), [0.9, 0.2])
        XCTAssertEqual(result.failures, ["beam: prompt 0, candidate \"2\": scoring failed: no score for step 2"])
    }

    func testBudgetsTheSearchCannotMeetAreRefusedAndATokenCapStopsIt() throws {
        let beam = try ComponentRegistry.shared.search("beam:beams=2,expansions=2")
        let scorer = TableStepScorer(["1": 0.9, "2": 0.5, "11": 0.95, "20": 0.8])
        XCTAssertThrowsError(try beam.search(request(StepScript.model(), scorer, budget: SearchBudget(samplesPerPrompt: 5)))) {
            XCTAssertEqual("\($0)", "beam: a budget of 5 samples per step is not a multiple of expansions = 2 (N beams × M expansions); use 4 or set expansions")
        }
        XCTAssertThrowsError(try beam.search(request(StepScript.model(), scorer, budget: SearchBudget(maxGeneratedTokens: 3)))) {
            XCTAssertEqual("\($0)", "beam: a budget of 3 generated tokens cannot pay for one step of 2 beams × 2 expansions (at least 4 tokens)")
        }
        XCTAssertThrowsError(try beam.search(request(StepScript.model(), nil))) {
            XCTAssertEqual("\($0)", "beam: needs a step scorer to rank partial solutions (a PRM, self-evaluation or rollouts)")
        }
        // 8 tokens after step 1, 20 after step 2: a cap of 10 stops the search after step 2.
        let capped = try beam.search(request(StepScript.model(), scorer, budget: SearchBudget(maxGeneratedTokens: 10)))
        XCTAssertEqual(capped.texts, [["1|11", "2|20"]])
        XCTAssertEqual(capped.usage.tokensGenerated, 20)
        // 8 samples per step with 2 expansions: 4 beams, from 8 first steps (16 tokens: the cap).
        let wide = try beam.search(request(StepScript.model(), scorer, budget: SearchBudget(samplesPerPrompt: 8, maxGeneratedTokens: 8)))
        XCTAssertEqual(wide.texts, [["1", "2", "0", "3"]])
    }

    func testDVTSSubtreesStayDisjoint() throws {
        let dvts = try ComponentRegistry.shared.search("dvts:subtrees=2,expansions=2")
        // Subtree "0"'s continuations outscore subtree "1"'s ("00", "01" > "10"), which would take
        // both beams of a beam search; DVTS keeps the best child of each subtree instead.
        let scorer = TableStepScorer(["0": 0.5, "1": 0.5, "00": 0.9, "01": 0.8, "10": 0.3, "11": 0.2,
                                      "000": 0.5, "001": 0.6, "100": 0.7, "101": 0.1])
        let result = try dvts.search(request(StepScript.model(), scorer))
        XCTAssertEqual(result.texts, [["1|10|100", "0|00|001"]])
        XCTAssertEqual(result.candidates[0].map(\.score), [0.7, 0.6])
        XCTAssertEqual(scorer.asked, ["0", "1", "0|00", "0|01", "1|10", "1|11", "0|00|000", "0|00|001", "1|10|100", "1|10|101"])
        XCTAssertThrowsError(try dvts.search(request(StepScript.model(), scorer, budget: SearchBudget(samplesPerPrompt: 3)))) {
            XCTAssertEqual("\($0)", "dvts: a budget of 3 samples per step is not a multiple of expansions = 2 (N beams × M expansions); use 2 or set expansions")
        }
    }

    func testLookaheadScoresAStepByItsGreedyRollout() throws {
        let search = try ComponentRegistry.shared.search("lookahead:beams=1,expansions=2,lookahead=1")
        // Step 1: "0" (.9) rolls out to "00" (.1), "1" (.5) to "10" (.8): lookahead keeps "1",
        // where beam search would keep "0". The rollout drew sample 0 of "Q:1|", so the next
        // expansions of "1" are "11" (rolls out to "110": .3) and "12" (→ "120": .6); then "12"
        // continues to "121" (.2) and "122" (.9), which end and are scored as they are.
        let scorer = TableStepScorer(["0": 0.9, "1": 0.5, "00": 0.1, "10": 0.8, "110": 0.3, "120": 0.6, "121": 0.2, "122": 0.9])
        let result = try search.search(request(StepScript.model(), scorer))
        XCTAssertEqual(result.texts, [["1|12|122"]])
        XCTAssertEqual(result.candidates[0].map(\.score), [0.9])
        XCTAssertEqual(scorer.asked, ["0|00", "1|10", "1|11|110", "1|12|120", "1|12|121", "1|12|122"])
    }
}
