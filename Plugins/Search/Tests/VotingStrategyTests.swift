import TemperCore
import TemperTestSupport
import XCTest

/// best-of-n, weighted-best-of-n and self-consistency, loaded from the built
/// libTemperPluginSearch.so, on scripted samples whose scores and votes are worked out by hand.
final class VotingStrategyTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["best-of-n", "weighted-best-of-n", "self-consistency", "greedy", "sampling"])
    }

    /// Five samples: three spellings of one half, then 7 and 7.
    private let halves = ["#### 0.5", "#### \\frac{1}{2}", "#### 1/2", "#### 7", "#### 7"]

    private func scripted(_ samples: [String]) -> ScriptedLanguageModel {
        ScriptedLanguageModel { _, k in samples[k % samples.count] }
    }

    func testSelfConsistencyCountsHalfSpellingsAsOneAnswer() throws {
        // A vote on raw strings would pick "7" (2 votes against 1 each); math-equiv's reader gives ½ three.
        let result = try ComponentRegistry.shared.search("self-consistency").search(request(scripted(halves), ["Q"], samples: 5))
        XCTAssertEqual(texts(result), ["#### 0.5", "#### \\frac{1}{2}", "#### 1/2", "#### 7", "#### 7"])
        XCTAssertEqual(result.candidates[0].map(\.score), [0.6, 0.6, 0.6, 0.4, 0.4])
        // One batched decode: the 1-token prompt prefilled once for all 5 samples, then one pass per step of the
        // longest row (16 characters and the end-of-sequence token, the first from the prefill's logits).
        XCTAssertEqual(result.usage, ComputeUsage(tokensGenerated: 8 + 16 + 8 + 6 + 6 + 5, tokensScored: 1, forwardPasses: 1 + 16))
    }

    func testSelfConsistencyLeavesSamplesWithoutAnswerOutOfTheVote() throws {
        let samples = ["I am not sure", "#### 3", "no idea", "no clue", "#### 4", "#### 3"]
        let result = try ComponentRegistry.shared.search("self-consistency").search(request(scripted(samples), ["Q"], samples: 6))
        XCTAssertEqual(texts(result), ["#### 3", "#### 3", "#### 4", "I am not sure", "no idea", "no clue"])
        XCTAssertEqual(result.candidates[0].map(\.score), [2 / 6, 2 / 6, 1 / 6, 0, 0, 0])
    }

    func testWeightedBestOfNPicksTheLargestSummedScore() throws {
        // Per sample: ½ 0.4 + 0.4 + 0.3 = 1.1 summed, 7: 0.9 + 0.05 = 0.95. Best-of-n takes the single best, a 7.
        let scores: [String: Float] = ["#### 0.5": 0.4, "#### \\frac{1}{2}": 0.4, "#### 1/2": 0.3]
        var seven = 0
        let verifier = ScriptedReward { text in
            if let s = scores[text] { return s }
            seven += 1
            return seven % 2 == 1 ? 0.9 : 0.05
        }
        let weighted = try ComponentRegistry.shared.search("weighted-best-of-n")
            .search(request(scripted(halves), ["Q"], samples: 5, verifier: verifier))
        XCTAssertEqual(texts(weighted), ["#### 0.5", "#### \\frac{1}{2}", "#### 1/2", "#### 7", "#### 7"])
        assertClose(weighted.candidates[0].map { $0.score ?? .nan }, [1.1, 1.1, 1.1, 0.95, 0.95], tol: 1e-6)

        seven = 0
        let best = try ComponentRegistry.shared.search("best-of-n").search(request(scripted(halves), ["Q"], samples: 5, verifier: verifier))
        XCTAssertEqual(texts(best), ["#### 7", "#### 0.5", "#### \\frac{1}{2}", "#### 1/2", "#### 7"])
        XCTAssertEqual(best.candidates[0].map(\.score), [0.9, 0.4, 0.4, 0.3, 0.05])
        XCTAssertEqual(best.failures, [])
    }

    func testARewardThatThrowsOnOneCandidateFailsOnlyThatCandidate() throws {
        let model = scripted(["#### 1", "boom", "#### 2"])
        let verifier = ScriptedReward { text in
            if text == "boom" { throw SpecError("cannot grade 'boom'") }
            return text == "#### 2" ? 1 : 0
        }
        for strategy in ["best-of-n", "weighted-best-of-n", "sampling"] {
            let result = try ComponentRegistry.shared.search(strategy).search(request(model, ["Q"], samples: 3, verifier: verifier))
            XCTAssertEqual(result.failures, ["prompt 0, candidate 1: cannot grade 'boom'"], strategy)
            XCTAssertEqual(result.candidates[0].count, 3, strategy)
            XCTAssertEqual(result.candidates[0].first { $0.sequence.text == "boom" }?.score, .some(nil), strategy)
        }
        let best = try ComponentRegistry.shared.search("best-of-n").search(request(model, ["Q"], samples: 3, verifier: verifier))
        XCTAssertEqual(texts(best), ["#### 2", "#### 1", "boom"])
        XCTAssertEqual(best.candidates[0].map(\.score), [1, 0, nil])
    }

    func testAVerifierFailingOnEveryCandidateIsAnError() throws {
        let verifier = ScriptedReward { _ in throw SpecError("exact-match: needs the dataset column 'answer'") }
        XCTAssertThrowsError(try ComponentRegistry.shared.search("best-of-n")
            .search(request(scripted(halves), ["Q"], samples: 2, verifier: verifier))) { error in
            XCTAssertEqual("\(error)", "best-of-n: the verifier failed on every candidate of prompt 0: " +
                           "exact-match: needs the dataset column 'answer'")
        }
    }

    func testBudgetsTheStrategiesCannotMeet() throws {
        let model = scripted(halves)
        func message(_ spec: String, _ r: SearchRequest) -> String? {
            do { _ = try ComponentRegistry.shared.search(spec).search(r); return nil } catch { return "\(error)" }
        }
        let verifier = ScriptedReward { _ in 1 }
        XCTAssertEqual(message("best-of-n", request(model, ["Q"], samples: 8, maxGeneratedTokens: 5, verifier: verifier)),
                       "best-of-n: a budget of 5 generated tokens per prompt cannot pay for 8 sequences (at least 1 token each); " +
                       "raise the token budget or lower the samples")
        XCTAssertEqual(message("self-consistency", request(model, ["Q"], samples: 0)),
                       "self-consistency: the budget asks for 0 samples per prompt; it needs at least 1")
        XCTAssertEqual(message("best-of-n", request(model, ["Q"], samples: 4)),
                       "best-of-n: needs a verifier to pick the best of 4 samples (temper search: --reward SPEC; temper eval: --verifier SPEC, or --verifier oracle to select with the grading reward)")
        var passes = request(model, ["Q"], samples: 2)
        passes.budget.maxForwardPasses = 10
        XCTAssertEqual(message("sampling", passes),
                       "sampling: cannot promise a cap of 10 forward passes (a decode's passes depend on the model); cap max_generated_tokens instead")
    }

    func testATokenCapIsSplitOverTheSamples() throws {
        // 10 tokens over 4 samples: each at most 2 tokens, cut with finish reason length.
        let result = try ComponentRegistry.shared.search("sampling").search(request(scripted(halves), ["Q"], samples: 4, maxGeneratedTokens: 10))
        XCTAssertEqual(texts(result), ["##", "##", "##", "##"])
        XCTAssertEqual(result.candidates[0].map(\.sequence.finishReason), [.length, .length, .length, .length])
        XCTAssertEqual(result.usage.tokensGenerated, 8)
    }

    func testGreedyAndSamplingKeepEveryPromptApart() throws {
        let model = ScriptedLanguageModel { prompt, k in "\(prompt)-\(k)" }
        let greedy = try ComponentRegistry.shared.search("greedy").search(request(model, ["a", "b"], samples: 3))
        XCTAssertEqual(greedy.candidates.map { $0.map(\.sequence.text) }, [["a-0"], ["b-0"]])
        let sampled = try ComponentRegistry.shared.search("sampling").search(request(model, ["a", "b"], samples: 3))
        XCTAssertEqual(sampled.candidates.map { $0.map(\.sequence.text) }, [["a-1", "a-2", "a-3"], ["b-1", "b-2", "b-3"]])
        XCTAssertEqual(sampled.candidates[0].map(\.score), [nil, nil, nil])
    }
}
