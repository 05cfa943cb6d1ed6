import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// budget-forcing and self-refine, loaded from the built libTemperPluginSearch.so, against scripted
/// models whose every prompt the test records.
final class SequentialStrategyTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["budget-forcing", "self-refine"])
    }

    /// Thinks "ab" then stops; after a "Wait" thinks "cdef"; answers " 42" after the forced prompt.
    private func thinker(firstThought: String = "ab</think>", prompts: Recorder) -> ScriptedLanguageModel {
        ScriptedLanguageModel { prompt, _ in
            prompts.seen.append(prompt)
            if prompt.hasSuffix("Final Answer:") { return " 42" }
            return prompt.hasSuffix("Wait") ? "cdef</think>" : firstThought
        }
    }

    final class Recorder { var seen: [String] = [] }

    func testBudgetForcingAppendsWaitWhenThinkingStopsBeforeTheMinimum() throws {
        let prompts = Recorder()
        let model = thinker(prompts: prompts)
        let result = try ComponentRegistry.shared.search("budget-forcing:min_thinking_tokens=5,max_thinking_tokens=20")
            .search(request(model, ["Q "]))
        // 2 tokens < 5: "Wait"; then 6 ≥ 5: no second Wait, the answer is forced.
        XCTAssertEqual(texts(result), ["abWaitcdef</think>\nFinal Answer: 42"])
        XCTAssertEqual(prompts.seen, ["Q ", "Q abWait", "Q abWaitcdef</think>\nFinal Answer:"])
        // The stop string is generated, then cut from the text: it is charged, as the end-of-sequence token is.
        XCTAssertEqual(result.usage.tokensGenerated, 10 + 12 + 4)
        // The prompt is prefilled once; then only new text is appended: "abWait", then
        // "cdef</think>\nFinal Answer:" (re-prefilling each context would score 2 + 8 + 34).
        XCTAssertEqual(result.usage.tokensScored, 2 + 6 + 26)
        let sequence = result.candidates[0][0].sequence
        XCTAssertEqual(sequence.tokenIDs, try model.tokenize(sequence.text))
        XCTAssertEqual(sequence.tokenLogprobs.count, sequence.tokenIDs.count)
        XCTAssertTrue(sequence.tokenLogprobs.allSatisfy(\.isNaN), "sampled and forced text mixed: no per-token log-probabilities")
        XCTAssertEqual(sequence.finishReason, .eos)
    }

    func testBudgetForcingWithoutAMinimumNeverWaits() throws {
        let prompts = Recorder()
        let result = try ComponentRegistry.shared.search("budget-forcing:max_thinking_tokens=20").search(request(thinker(prompts: prompts), ["Q "]))
        XCTAssertEqual(texts(result), ["ab</think>\nFinal Answer: 42"])
        XCTAssertEqual(prompts.seen.count, 2)
    }

    func testBudgetForcingCutsThinkingOffAtTheMaximum() throws {
        let prompts = Recorder()
        let model = thinker(firstThought: "abcdefgh</think>", prompts: prompts)
        let result = try ComponentRegistry.shared.search("budget-forcing:min_thinking_tokens=2,max_thinking_tokens=3").search(request(model, ["Q "]))
        XCTAssertEqual(texts(result), ["abc</think>\nFinal Answer: 42"])
        XCTAssertEqual(result.usage.tokensGenerated, 3 + 4)
    }

    func testBudgetForcingStopsWaitingAfterMaxWaits() throws {
        let model = ScriptedLanguageModel { prompt, _ in prompt.hasSuffix("Final Answer:") ? " 1" : "</think>" }
        let result = try ComponentRegistry.shared.search("budget-forcing:min_thinking_tokens=5,max_waits=2").search(request(model, ["Q "]))
        XCTAssertEqual(texts(result), ["WaitWait</think>\nFinal Answer: 1"])
    }

    func testBudgetForcingRefusesBudgetsItCannotMeet() throws {
        let model = ScriptedLanguageModel { _, _ in "x" }
        XCTAssertThrowsError(try ComponentRegistry.shared.search("budget-forcing:max_thinking_tokens=100")
            .search(request(model, ["Q"], maxGeneratedTokens: 120))) { error in
            XCTAssertEqual("\(error)", "budget-forcing: max_thinking_tokens 100 + max_answer_tokens 64 exceed the budget of 120 generated tokens per prompt")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.search("budget-forcing:min_thinking_tokens=10,max_thinking_tokens=5")) { error in
            XCTAssertEqual("\(error)", "budget-forcing: min_thinking_tokens (10) is above max_thinking_tokens (5)")
        }
    }

    /// Answers 1; a revision of answer a answers 2a.
    private func refiner(_ prompts: Recorder) -> ScriptedLanguageModel {
        ScriptedLanguageModel { prompt, _ in
            prompts.seen.append(prompt)
            if prompt.hasSuffix("Feedback:") { return " check" }
            guard prompt.hasSuffix("Answer:"), let a = Int(prompt.dropFirst("Q #### ".count).prefix { $0.isNumber }) else { return "#### 1" }
            return "#### \(2 * a)"
        }
    }

    func testSelfRefineStopsOnTheFirstRevisionTheVerifierPasses() throws {
        let prompts = Recorder()
        let verifier = ScriptedReward { $0 == "#### 4" ? 1 : 0 }
        let result = try ComponentRegistry.shared.search("self-refine:max_rounds=3,feedback_prompt=\nFeedback:,refine_prompt=\nAnswer:")
            .search(request(refiner(prompts), ["Q "], verifier: verifier))
        XCTAssertEqual(texts(result), ["#### 4", "#### 2", "#### 1"])
        XCTAssertEqual(result.candidates[0].map(\.score), [1, 0, 0])
        XCTAssertEqual(prompts.seen, ["Q ", "Q #### 1\nFeedback:", "Q #### 1\nFeedback: check\nAnswer:",
                                      "Q #### 2\nFeedback:", "Q #### 2\nFeedback: check\nAnswer:"])
    }

    func testSelfRefineWithoutAVerifierRunsEveryRound() throws {
        let prompts = Recorder()
        let result = try ComponentRegistry.shared.search("self-refine:max_rounds=1,feedback_prompt=\nFeedback:,refine_prompt=\nAnswer:")
            .search(request(refiner(prompts), ["Q "]))
        XCTAssertEqual(texts(result), ["#### 2", "#### 1"])
        XCTAssertEqual(result.candidates[0].map(\.score), [nil, nil])
        XCTAssertEqual(result.usage.tokensGenerated, 7 + 7 + 7, "each with its end-of-sequence token")
        // "Q " once, then "#### 1\nFeedback:" and " check\nAnswer:" appended (re-prefilling: 2 + 18 + 32).
        XCTAssertEqual(result.usage.tokensScored, 2 + 16 + 14)
    }

    func testSelfRefineSplitsTheTokenBudgetOverItsGenerations() throws {
        XCTAssertThrowsError(try ComponentRegistry.shared.search("self-refine:max_rounds=3")
            .search(request(refiner(Recorder()), ["Q"], maxGeneratedTokens: 6))) { error in
            XCTAssertEqual("\(error)", "self-refine: a budget of 6 generated tokens per prompt cannot pay for 7 sequences (at least 1 token each); " +
                           "raise the token budget or lower the samples")
        }
    }
}
