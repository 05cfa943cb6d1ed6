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
        // Step 1 spends 8 tokens (4 rows of "k|"). A cap of 10 leaves 2 for step 2's 4 rows, less
        // than one each: the search stops with step 1's beams, not at 20 tokens.
        let capped = try beam.search(request(StepScript.model(), scorer, budget: SearchBudget(maxGeneratedTokens: 10)))
        XCTAssertEqual(capped.texts, [["1", "2"]])
        XCTAssertEqual(capped.usage.tokensGenerated, 8)
        // A cap of 14 leaves 6: ⌊6 / 4⌋ = 1 token per row, so step 2's children are cut to their
        // first character ("10|" → "1", ".length") and the search ends at 12 tokens. Both children
        // of "1" ("1|1", last step scored as "1": .9) beat those of "2" (.5).
        let shared = try beam.search(request(StepScript.model(), scorer, budget: SearchBudget(maxGeneratedTokens: 14)))
        XCTAssertEqual(shared.texts, [["1|1", "1|1"]])
        XCTAssertEqual(shared.candidates[0].map(\.sequence.finishReason), [.length, .length])
        XCTAssertEqual(shared.usage.tokensGenerated, 12)
        // 8 samples per step with 2 expansions: 4 beams, from 8 first steps sharing the cap of 8
        // (one token each: "k" without its separator, cut, so the solutions end there).
        let wide = try beam.search(request(StepScript.model(), scorer, budget: SearchBudget(samplesPerPrompt: 8, maxGeneratedTokens: 8)))
        XCTAssertEqual(wide.texts, [["1", "2", "0", "3"]])
        XCTAssertEqual(wide.usage.tokensGenerated, 8)
        XCTAssertEqual(wide.candidates[0].map(\.sequence.finishReason), [.length, .length, .length, .length])
    }

    func testMaxNewTokensCapsEachSolutionOverAllItsSteps() throws {
        let beam = try ComponentRegistry.shared.search("beam:beams=2,expansions=2")
        let scorer = TableStepScorer(["1": 0.9, "2": 0.5, "11": 0.95, "20": 0.8])
        // "k|" (2 tokens) then "kk|" (3) spend max_new_tokens = 5: the solutions end after step 2
        // although each step alone was far below it (step_tokens 256).
        var options = GenerationOptions(maxNewTokens: 5)
        var result = try beam.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt], stepScorer: scorer, generation: options))
        XCTAssertEqual(result.texts, [["1|11", "2|20"]])
        XCTAssertEqual(result.candidates[0].map(\.sequence.tokenIDs.count), [5, 5])
        XCTAssertEqual(result.candidates[0].map(\.sequence.finishReason), [.length, .length])
        // 6: step 3 gets the one token left ("110" → "1", scored as "1": .9).
        options.maxNewTokens = 6
        result = try beam.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt], stepScorer: scorer, generation: options))
        XCTAssertEqual(result.texts, [["1|11|1", "1|11|1"]])
        XCTAssertEqual(result.candidates[0].map(\.sequence.tokenIDs.count), [6, 6])
        options.maxNewTokens = 0
        XCTAssertThrowsError(try beam.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt], stepScorer: scorer, generation: options))) {
            XCTAssertEqual("\($0)", "beam: max_new_tokens must be ≥ 1 for a step search (it caps each solution's tokens), got 0")
        }
    }

    func testEveryTreeStrategyKeepsEachSolutionWithinMaxNewTokens() throws {
        TestPlugins.loadBuilt(requiring: ["mcts", "tree-of-thoughts"])
        // Uncapped, every solution here is "k|" + "kk|" + "kkk" + EOS = 9 tokens. With 4, each is
        // step 1 (2 tokens) and step 2 cut to its first 2 tokens: exactly 4, ended by the cap.
        for spec in ["beam:beams=2,expansions=2", "dvts:subtrees=2,expansions=2", "lookahead:beams=2,expansions=2",
                     "mcts:simulations=6,expansions=2", "tree-of-thoughts:proposals=2,keep=2"] {
            let strategy = try ComponentRegistry.shared.search(spec)
            let result = try strategy.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt], stepScorer: TableStepScorer([:]),
                                                           generation: GenerationOptions(maxNewTokens: 4)))
            XCTAssertFalse(result.candidates[0].isEmpty, spec)
            for c in result.candidates[0] {
                XCTAssertEqual(c.sequence.tokenIDs.count, 4, "\(spec): \(c.sequence.text)")
                XCTAssertEqual(c.sequence.finishReason, .length, spec)
            }
        }
    }

    func testDVTSSubtreesStayDisjoint() throws {
        let dvts = try ComponentRegistry.shared.search("dvts:subtrees=2,expansions=2")
        // First step as search-and-learn's: each subtree samples M = 2 steps from the prompt and
        // keeps its best ("0" of "0", "1"; "3" of "2", "3"). Then subtree "0"'s continuations
        // outscore subtree "3"'s ("00", "01" > "30"), which would take both beams of a beam search;
        // DVTS keeps the best child of each subtree instead.
        let scorer = TableStepScorer(["0": 0.5, "1": 0.4, "2": 0.3, "3": 0.6, "00": 0.9, "01": 0.8, "30": 0.3, "31": 0.2,
                                      "000": 0.5, "001": 0.6, "300": 0.7, "301": 0.1])
        let result = try dvts.search(request(StepScript.model(), scorer))
        XCTAssertEqual(result.texts, [["3|30|300", "0|00|001"]])
        XCTAssertEqual(result.candidates[0].map(\.score), [0.7, 0.6])
        XCTAssertEqual(scorer.asked, ["0", "1", "2", "3", "0|00", "0|01", "3|30", "3|31", "0|00|000", "0|00|001", "3|30|300", "3|30|301"])
        XCTAssertEqual(scorer.newSteps, 4 + 4 + 4, "each node's inherited step scores are kept: only its new step is scored")
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
