import Foundation
import TemperCore
import TemperTestSupport
import XCTest

final class StepScorerTests: XCTestCase {
    func testSegmentationBySeparatorAndRegex() throws {
        XCTAssertEqual(try StepSegmentation.separator("\n\n").split("a\n\nb\n\n\n\nc"), ["a", "b", "c"])
        XCTAssertEqual(try StepSegmentation.regex("Step \\d+:").split("Step 1: x Step 2: y"), [" x ", " y"])
        XCTAssertThrowsError(try StepSegmentation.regex("(").split("x")) {
            XCTAssertTrue("\($0)".hasPrefix("step regex '(' is not a valid regular expression"), "\($0)")
        }
        XCTAssertThrowsError(try StepSegmentation.separator("").split("x")) { XCTAssertEqual("\($0)", "step separator must not be empty") }
    }

    func testSelfEvaluationIsPYesOverPYesPlusPNoInOneBatchedCall() throws {
        // " Yes" = ' ' Y e s: −1 − 0.2 − 1 − 1 = −3.2; " No" = ' ' N o: −1 − 1.5 − 1 = −3.5.
        let model = ScriptedLanguageModel(logprob: { $0 == "Y" ? -0.2 : $0 == "N" ? -1.5 : -1 }) { _, _ in "" }
        let scorer = SelfEvaluationStepScorer(model: model, question: "?")
        let scores = try scorer.scoreSteps([PartialSolution(prompt: "p", steps: ["a", "b"]), PartialSolution(prompt: "q", steps: ["c"])])
        let expected = Float(1 / (1 + Foundation.exp(-0.3)))   // σ(−3.2 − (−3.5))
        XCTAssertEqual(scores.map(\.count), [2, 1])
        for s in scores.flatMap({ $0 }) { XCTAssertEqual(s, expected, accuracy: 1e-6) }
        // One call for the 6 (context, answer) pairs: contexts "pa?", "pa\n\nb?", "qc?" with 4 + 3 answer tokens each.
        XCTAssertEqual(model.usage, ComputeUsage(tokensScored: 2 * (3 + 6 + 3) + 3 * (4 + 3), forwardPasses: 1))
    }

    func testSelfEvaluationPairsEachStepsYesWithItsOwnNo() throws {
        // log p(" Yes" | context) = −0.1·L, log p(" No" | context) = −0.2·L for a context of L
        // tokens, so a step's score is σ(0.1·L): contexts "pa?" (3), "pa\n\nb?" (6), "qqc?" (4)
        // score differently, and a yes paired with another step's no would show.
        let model = ContextLogprobModel { $0.count == 4 ? 1 : 2 }   // " Yes" is 4 tokens, " No" 3
        let scorer = SelfEvaluationStepScorer(model: model, question: "?")
        let scores = try scorer.scoreSteps([PartialSolution(prompt: "p", steps: ["a", "b"]), PartialSolution(prompt: "qq", steps: ["c"])])
        let sigmoid = { (x: Double) in Float(1 / (1 + Foundation.exp(-x))) }
        XCTAssertEqual(scores.map(\.count), [2, 1])
        for (got, want) in zip(scores.flatMap { $0 }, [sigmoid(0.3), sigmoid(0.6), sigmoid(0.4)]) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        // From step 2 of the first solution and step 1 of the second: only those questions are asked.
        let before = model.usage.tokensScored
        let newOnly = try scorer.scoreSteps([PartialSolution(prompt: "p", steps: ["a", "b"]), PartialSolution(prompt: "qq", steps: ["c"])],
                                            from: [1, 0])
        XCTAssertEqual(newOnly.map(\.count), [1, 1])
        XCTAssertEqual(newOnly[0][0], sigmoid(0.6), accuracy: 1e-6)
        XCTAssertEqual(newOnly[1][0], sigmoid(0.4), accuracy: 1e-6)
        XCTAssertEqual(model.usage.tokensScored - before, (6 + 4) + (6 + 3) + (4 + 4) + (4 + 3), "\"pa\\n\\nb?\" and \"qqc?\", each with yes and no")
    }

    /// 1 when the completion ends in the `answer` column's text.
    struct EndsWithAnswer: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] {
            try zip(batch.completions, batch.column("answer", for: "ends-with")).map { $0.hasSuffix($1.text) ? 1 : 0 }
        }
    }

    func testRolloutScoresAreMeanOutcomeRewardsOfCompletionsFromEachStep() throws {
        // From any context the k-th sample is "A" for even k, "B" for odd: half the rollouts are right.
        let model = ScriptedLanguageModel { context, k in context.hasSuffix("s1\n\n") ? "A" : (k % 2 == 0 ? "A" : "B") }
        let scorer = try RolloutStepScorer(model: model, reward: EndsWithAnswer(), rollouts: 4)
        let scores = try scorer.scoreSteps([PartialSolution(prompt: "p:", steps: ["s0", "s1"], columns: ["answer": .string("A")])])
        // After "s0": A, B, A, B → 0.5; after "s1" every rollout says "A" → 1.
        XCTAssertEqual(scores, [[0.5, 1]])
        let generated = model.usage.tokensGenerated
        XCTAssertEqual(try scorer.scoreSteps([PartialSolution(prompt: "p:", steps: ["s0", "s1"], columns: ["answer": .string("A")])], from: [1]),
                       [[1]])
        XCTAssertEqual(model.usage.tokensGenerated - generated, 4 * 2, "4 rollouts from the second step only (a letter and end of sequence each)")
        XCTAssertThrowsError(try RolloutStepScorer(model: model, reward: EndsWithAnswer(), rollouts: 0)) {
            XCTAssertEqual("\($0)", "rollout step scorer: rollouts must be ≥ 1, got 0")
        }
        XCTAssertThrowsError(try scorer.scoreSteps([PartialSolution(prompt: "p:", steps: ["s0"])])) {
            XCTAssertEqual("\($0)", "ends-with: needs the dataset column 'answer'; the data has no extra columns")
        }
    }

    /// Returns one score too few.
    final class ShortScorer: StepScoring {
        let segmentation = StepSegmentation.separator("\n\n")
        func scoreSteps(_ solutions: [PartialSolution]) throws -> [[Float]] { solutions.map { Array(repeating: 1, count: $0.steps.count - 1) } }
    }

    func testIsolationScoresTheOthersWhenOneFailsAndRefusesBrokenScorers() throws {
        let scorer = TableStepScorer(["a": 1, "c": 3], failing: ["b"])
        let isolated = try scorer.scoreStepsIsolatingFailures([PartialSolution(prompt: "", steps: ["a"]), PartialSolution(prompt: "", steps: ["b"]),
                                                                PartialSolution(prompt: "", steps: ["a", "c"])])
        XCTAssertEqual(isolated.scores.map { $0 }, [[1], nil, [1, 3]])
        XCTAssertEqual(isolated.failures.map(\.index), [1])
        XCTAssertEqual(isolated.failures.map(\.message), ["no score for step b"])
        XCTAssertThrowsError(try ShortScorer().scoreStepsIsolatingFailures([PartialSolution(prompt: "", steps: ["a", "b"])])) {
            XCTAssertEqual("\($0)", "step scorer ShortScorer returned 1 scores for solution 0 with 2 steps")
        }
    }
}
