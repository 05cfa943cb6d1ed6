import TemperCore
import TemperTestSupport
import XCTest

final class MonteCarloTreeSearchTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["mcts", "tree-of-thoughts"]) }

    func testVisitsFollowPUCTOnAKnownTree() throws {
        let mcts = try ComponentRegistry.shared.search("mcts:simulations=8,expansions=2,c_puct=1")
        // Siblings have equal log-probabilities, so every prior is 1/2. U = Q + P·√N(parent)/(1+N).
        // 1: expand the prompt (value 0).            N: root 1
        // 2: both U = .5 → "0" (first); expand, v .2. N: root 2, "0" 1
        // 3: "0" .2 + .5·√2/2 = .55 < "1" .5·√2 = .71 → expand "1", v .6
        // 4: "0" .2 + .5·√3/2 = .63 < "1" .6 + .43 → "1"; its children tie → "10": expand, v .5
        // 5: "0" .7 < "1" .55 + .33; "10" .5 + .35 > "11" .71 → "10" → "100" (ends): v .95
        // 6–8 (likewise): "1", "10", "100" (its value is kept) twice, and "11" once (v .4).
        // Visits: "0" 1, "1" 6, "10" 4, "100" 3, "11" 1: the most visited path is "1|10|100".
        let scorer = TableStepScorer(["0": 0.2, "1": 0.6, "10": 0.5, "11": 0.4, "100": 0.95, "101": 0.2])
        let result = try mcts.search(SearchRequest(model: StepScript.model(), prompts: [StepScript.prompt], stepScorer: scorer))
        XCTAssertEqual(scorer.asked, ["0", "1", "1|10", "1|10|100", "1|11"])
        XCTAssertEqual(result.texts[0].first, "1|10|100")
        XCTAssertEqual(result.candidates[0][0].score ?? 0, 0.95, accuracy: 1e-6)
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
