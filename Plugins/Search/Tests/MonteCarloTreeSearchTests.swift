import TemperCore
import TemperTestSupport
import XCTest

final class MonteCarloTreeSearchTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["mcts", "tree-of-thoughts"]) }

    func testVisitsFollowPUCTOnAKnownTree() throws {
        let mcts = try ComponentRegistry.shared.search("mcts:simulations=8,expansions=2,c_puct=1")
        // Siblings have equal log-probabilities, so every prior is 1/2. U = Q + P·√N(parent)/(1+N),
        // an unvisited child's Q being its parent's mean value (first-play urgency).
        // 1: expand the prompt (value 0).                                  root N 1, Q 0
        // 2: both .0 + .5 → "0" (first); expand, v .2.                     root 2, Q .1
        // 3: "0" .2 + .5·√2/2 = .55 < "1" .1 + .5·√2 = .81 → expand "1", v .6.   root 3
        // 4: "0" .2 + .5·√3/2 = .63 < "1" .6 + .43; in "1" both .6 + .5 → "10": expand, v .5
        // 5: "0" .2 + .5 = .7 < "1" .55 + .5·2/3 = .88; in "1": "10" .5 + .5·√2/2 = .85 <
        //    "11" .55 + .5·√2 = 1.26 → expand "11", v .4          ("1": N 3, Q .5)
        // 6: "0" .2 + .5·√5/2 = .76 < "1" .5 + .5·√5/4 = .78; "10" .5 + .5·√3/2 = .93 >
        //    "11" .4 + .43; in "10" both .5 + .5 → "100" (ends): v .95   ("1": 4, Q .6125; "10": 2, Q .725)
        // 7: "0" .2 + .5·√6/2 = .81 < "1" .6125 + .5·√6/5 = .86; "10" .725 + .5·2/3 = 1.06 > "11" .4 + .5;
        //    in "10": "100" .95 + .5·√2/2 = 1.30 < "101" .725 + .5·√2 = 1.43 → "101" (ends): v .2
        // 8: "0" .2 + .5·√7/2 = .86 > "1" .53 + .5·√7/6 = .75 → "0"; its children tie at .2 + .5 →
        //    "00": expand, v 0 (unscored).
        // Visits: "0" 2, "1" 5; under "1": "10" 3, "11" 1; under "10": "100" and "101" 1 each, "100"
        // has the higher Q. The answer is "1|10|100", then the other finished solution "1|10|101".
        let scorer = TableStepScorer(["0": 0.2, "1": 0.6, "10": 0.5, "11": 0.4, "100": 0.95, "101": 0.2])
        let result = try mcts.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt], stepScorer: scorer))
        XCTAssertEqual(scorer.asked, ["0", "1", "1|10", "1|11", "1|10|100", "1|10|101", "0|00"])
        XCTAssertEqual(result.texts, [["1|10|100", "1|10|101"]])
        XCTAssertEqual(result.candidates[0].map { $0.score ?? -1 }, [0.95, 0.2])
        XCTAssertEqual(result.failures, [])
    }

    func testRolloutValuesNeedAVerifierAndStepValuesAScorer() throws {
        let rollout = try ComponentRegistry.shared.search("mcts:value=rollout")
        XCTAssertThrowsError(try rollout.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt]))) {
            XCTAssertEqual("\($0)", "mcts: value=rollout needs a verifier (a reward) to score the rollouts")
        }
        let step = try ComponentRegistry.shared.search("mcts")
        XCTAssertThrowsError(try step.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt]))) {
            XCTAssertEqual("\($0)", "mcts: value=step needs a step scorer to value leaves (or use value=rollout with a verifier)")
        }
    }

    /// 1 for a completion containing "02".
    struct Contains02: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] { batch.completions.map { $0.contains("02") ? 1 : 0 } }
    }

    func testRolloutValuesComeFromTheVerifierOnCompletionsSampledFromTheLeaf() throws {
        let mcts = try ComponentRegistry.shared.search("mcts:simulations=2,expansions=2,value=rollout,step_separator=|")
        // 1: the prompt expands into "0", "1"; its rollout is sample 2 of "Q:", "2|": reward 0.
        // 2: "0" (first of a tie) expands into "00", "01"; its rollout "0|02|" is rewarded 1.
        // "0" is the only visited child: the answer completes it with sample 3 of "Q:0|", scored Q = 1.
        let model = StepScript.model()
        let result = try mcts.search(SearchRequest(model: model, prompts: [StepScript.prompt], verifier: Contains02()))
        XCTAssertEqual(result.texts, [["0|03|"]])
        XCTAssertEqual(result.candidates[0][0].score, 1)
        // Prefill 2; expansions 2 + 2 rows of "k|" / "0k|"; rollouts "2|"+EOS, "02|"+EOS; answer "03|"+EOS.
        XCTAssertEqual(result.usage.tokensGenerated, 4 + 6 + 3 + 4 + 4)
        XCTAssertEqual(result.failures, [])
    }

    func testTreeOfThoughtsDepthFirstPrunesAndBacktracks() throws {
        let tot = try ComponentRegistry.shared.search("tree-of-thoughts:algorithm=dfs,proposals=2,threshold=0.5")
        // "0" (.7) is tried first: its thoughts "00" (.3) and "01" (.2) are below the threshold,
        // so it is abandoned; "1" (.6) → "11" (.8) first ("10" .4 is pruned) → "110" (.9) ends
        // the solution at or above the threshold: the search stops there.
        let scorer = TableStepScorer(["0": 0.7, "1": 0.6, "00": 0.3, "01": 0.2, "10": 0.4, "11": 0.8, "110": 0.9, "111": 0.1])
        let result = try tot.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt], stepScorer: scorer))
        XCTAssertEqual(result.texts, [["1|11|110"]])
        XCTAssertEqual(scorer.asked, ["0", "1", "0|00", "0|01", "1|10", "1|11", "1|11|110", "1|11|111"])
    }

    func testTreeOfThoughtsDepthFirstOnlyAcceptsASolutionThatReallyEnded() throws {
        let tot = try ComponentRegistry.shared.search("tree-of-thoughts:algorithm=dfs,proposals=2,threshold=0.5,step_tokens=4")
        // The prompt's first thought runs past step_tokens and is cut ("aaaa", .length); the
        // second, "b", ends with the end-of-sequence token. "aaaa" ranks first but was only cut
        // off, so the search goes on to "b".
        let model = ScriptedLanguageModel { _, k in k == 0 ? "aaaaaaaa|" : "b" }
        let scorer = TableStepScorer(["aaaa": 0.9, "b": 0.7])
        let result = try tot.search(SearchRequest(model: model, prompts: [StepScript.prompt], stepScorer: scorer))
        XCTAssertEqual(result.texts, [["b"]])
        XCTAssertEqual(result.candidates[0][0].sequence.finishReason, .eos)
        // Cut by max_steps too: with one step allowed, "0" and "1" (valued .7, .6) end by the step
        // cap, not by the model; no solution qualifies, so both are reported, best first.
        let oneStep = try ComponentRegistry.shared.search("tree-of-thoughts:algorithm=dfs,proposals=2,threshold=0.5,max_steps=1")
        let capped = try oneStep.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt],
                                                      stepScorer: TableStepScorer(["0": 0.7, "1": 0.6])))
        XCTAssertEqual(capped.texts, [["0", "1"]])
    }

    func testTreeOfThoughtsBreadthFirstKeepsTheBestBOfEveryLevel() throws {
        let tot = try ComponentRegistry.shared.search("tree-of-thoughts:proposals=2,keep=2")
        // The prompt proposes 2 thoughts ("0", "1"); then each kept state proposes 2 and the best
        // 2 of the 4 stay: "1|11" (.8) and "0|00" (.3); they end in "110" (.9) and "001" (.5).
        let scorer = TableStepScorer(["0": 0.7, "1": 0.6, "00": 0.3, "01": 0.2, "10": 0.25, "11": 0.8,
                                      "110": 0.9, "111": 0.1, "000": 0.4, "001": 0.5])
        let result = try tot.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt], stepScorer: scorer))
        XCTAssertEqual(result.texts, [["1|11|110", "0|00|001"]])
    }
}
