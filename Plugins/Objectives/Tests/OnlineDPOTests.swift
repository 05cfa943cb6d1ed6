import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `online-dpo`, loaded from the built plugin: pairs labelled by reward, the loss against its
/// formula worked by hand, its gradient against finite differences, bad rollouts, and a run through
/// the host's on-policy loop on a tiny model that raises the reward.
final class OnlineDPOTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["online-dpo", "format", "adamw"]) }

    // Three prompts, two completions each (2 + 1, 2 + 2, 1 + 1 tokens). The reference is the
    // policy minus shift_r spread over row r's tokens, so log π(y_r) − log π_ref(y_r) = shift_r.
    private let fixture = RolloutFixture(completionLengths: [2, 1, 2, 2, 1, 1])
    private let groups = [0, 0, 1, 1, 2, 2]
    private let shifts = [0.3, -0.2, 0.5, 0.1, 0, 0.4]

    private func batch(rewards: [Float]) -> RolloutBatch {
        let f = fixture
        let ref = f.perToken { r, c in f.logprob(r, c) - shifts[r] / Double(f.completion(r).count) }
        return f.batch(groups: groups, rewards: rewards, reference: ref)
    }

    /// log σ(x) in Double.
    private func logSigmoid(_ x: Double) -> Double { -log(1 + exp(-x)) }

    func testPairsAreLabelledByRewardAndTheLossFollowsTheFormulaByHand() throws {
        let dpo = try ComponentRegistry.shared.objective("online-dpo:beta=0.1")
        XCTAssertTrue(dpo.needsReference)
        XCTAssertEqual(dpo.lossWeighting, .sequences)
        XCTAssertEqual(dpo.inputKind, .rollouts)
        // Group 0: row 1 wins (1 > 0.2); group 1: row 2 wins (3 > 1); group 2 ties: skipped.
        let (out, prepared) = try preparedLoss(dpo, batch(rewards: [0.2, 1, 3, 1, 0.5, 0.5]), model: fixture.model)
        XCTAssertEqual(try XCTUnwrap(prepared.extra["preference"]).scalars, [-1, 1, 1, -1, 0, 0])
        // h = shift_w − shift_l: −0.2 − 0.3 = −0.5 and 0.5 − 0.1 = 0.4; ℓ = −log σ(0.1·h), summed
        // over the two decided pairs and divided by all three.
        let expected = -(logSigmoid(0.1 * -0.5) + logSigmoid(0.1 * 0.4)) / 3
        XCTAssertEqual(expected, 0.463936, accuracy: 1e-6)
        XCTAssertEqual(Double(out.loss.item), expected, accuracy: 1e-5)
        let m = out.metrics
        XCTAssertEqual(try XCTUnwrap(m["pairs/skipped"]), 1)
        XCTAssertEqual(try XCTUnwrap(m["pairs/skipped_fraction"]), 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m["rewards/chosen"]), 0.1 * (-0.2 + 0.5) / 2, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(m["rewards/rejected"]), 0.1 * (0.3 + 0.1) / 2, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(m["rewards/margins"]), 0.1 * (-0.5 + 0.4) / 2, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(m["rewards/accuracies"]), 0.5)
        XCTAssertEqual(try XCTUnwrap(m["objective/scores_margin"]), (0.8 + 2) / 2, accuracy: 1e-6)
        let f = fixture
        let chosenLogps = (f.logprob(1, 1) + f.logprob(2, 1) + f.logprob(2, 2)) / 2
        XCTAssertEqual(try XCTUnwrap(m["logps/chosen"]), chosenLogps, accuracy: 1e-5)
    }

    func testIPOIsTheSquaredDistanceToOneOverTwoBeta() throws {
        let ipo = try ComponentRegistry.shared.objective("online-dpo:beta=0.5,loss_type=ipo")
        let (out, _) = try preparedLoss(ipo, batch(rewards: [0.2, 1, 3, 1, 0.5, 0.5]), model: fixture.model)
        // (h − 1/(2β))² with 1/(2β) = 1: (−1.5)² + (−0.6)² = 2.61, over three pairs.
        XCTAssertEqual(Double(out.loss.item), 2.61 / 3, accuracy: 1e-5)
    }

    func testAnUnscoredPairIsSkippedAndTheReferenceIsComputedWhenMissing() throws {
        let dpo = try ComponentRegistry.shared.objective("online-dpo")
        let f = fixture
        // No reference log-probs in the rollouts: prepare reads them from the reference model, here
        // the policy itself, so every h is 0 and each decided pair costs log 2.
        let rollouts = f.batch(groups: groups, rewards: [.nan, 1, 3, 1, 2, 0])
        let (out, prepared) = try preparedLoss(dpo, rollouts, model: f.model, reference: f.model)
        XCTAssertEqual(try XCTUnwrap(prepared.extra["preference"]).scalars, [0, 0, 1, -1, 1, -1])
        XCTAssertNotNil(prepared.referenceLogprobs)
        XCTAssertEqual(Double(out.loss.item), 2 * log(2) / 3, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["pairs/skipped"], 1)
    }

    func testMissingEOSPenaltyIsSubtractedFromTruncatedCompletionsBeforeLabelling() throws {
        let f = fixture
        let ref = f.perToken { r, c in f.logprob(r, c) - shifts[r] / Double(f.completion(r).count) }
        // Rows 1 and 4 were cut at max_completion_length (no EOS). Penalty 0.5 (TRL OnlineDPOConfig):
        // group 0: 0.2 vs 1 − 0.5 = 0.5, row 1 still wins; group 1: 3 vs 1, unchanged; group 2:
        // 0.5 − 0.5 = 0 vs 0.5, so row 5 wins a pair that was tied.
        let truncated = [false, true, false, false, true, false]
        let rollouts = f.batch(groups: groups, rewards: [0.2, 1, 3, 1, 0.5, 0.5], reference: ref, truncated: truncated)
        let dpo = try ComponentRegistry.shared.objective("online-dpo:beta=0.1,missing_eos_penalty=0.5")
        let (out, prepared) = try preparedLoss(dpo, rollouts, model: f.model)
        XCTAssertEqual(prepared.rewards, [0.2, 0.5, 3, 1, 0, 0.5])
        XCTAssertEqual(try XCTUnwrap(prepared.extra["preference"]).scalars, [-1, 1, 1, -1, -1, 1])
        // h = shift_w − shift_l: −0.5, 0.4 and 0.4 − 0 = 0.4; all three pairs decided.
        let expected = -(logSigmoid(0.1 * -0.5) + 2 * logSigmoid(0.1 * 0.4)) / 3
        XCTAssertEqual(Double(out.loss.item), expected, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["pairs/skipped"], 0)
        XCTAssertEqual(try XCTUnwrap(out.metrics["val/contain_eos_token"]), 4.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(out.metrics["objective/scores_margin"]), (0.3 + 2 + 0.5) / 3, accuracy: 1e-6)
        // Off by default: the tied pair stays skipped.
        let (plain, _) = try preparedLoss(try ComponentRegistry.shared.objective("online-dpo:beta=0.1"), rollouts, model: f.model)
        XCTAssertEqual(plain.metrics["pairs/skipped"], 1)
        XCTAssertEqual(errorMessage { _ = try ComponentRegistry.shared.objective("online-dpo:missing_eos_penalty=-1") }?.contains("missing_eos_penalty"), true)
    }

    func testGradientMatchesFiniteDifferencesAndSkippedPairsGetNone() throws {
        let f = fixture
        for spec in ["online-dpo:beta=0.7", "online-dpo:beta=0.3,loss_type=ipo"] {
            let dpo = try ComponentRegistry.shared.objective(spec)
            var b = batch(rewards: [0.2, 1, 3, 1, 0.5, 0.5])
            let model = f.model
            try dpo.prepare(&b, context: ObjectiveContext(policy: model))
            let prepared = b
            assertGradientsMatch([f.logits], message: spec) { _ in try dpo.loss(.rollouts(prepared), context: ObjectiveContext(policy: model)).loss }
            f.logits.grad = nil
            try dpo.loss(.rollouts(prepared), context: ObjectiveContext(policy: model)).loss.backward()
            let grad = try XCTUnwrap(f.logits.grad).scalars
            let row = f.length * f.vocab
            XCTAssertGreaterThan(grad[0..<row].map { abs($0) }.max()!, 1e-3, "\(spec): row 0 is in a decided pair")
            XCTAssertEqual(grad[(4 * row)...].map { abs($0) }.max(), 0, "\(spec): the tied pair carries no gradient")
            f.logits.grad = nil
        }
    }

    func testAllPairsTiedTrainsOnNothing() throws {
        let dpo = try ComponentRegistry.shared.objective("online-dpo")
        let (out, _) = try preparedLoss(dpo, batch(rewards: [1, 1, 0, 0, 2, 2]), model: fixture.model)
        XCTAssertEqual(out.loss.item, 0)
        XCTAssertFalse(out.loss.requiresGrad, "nothing to back-propagate: the trainer skips the backward pass")
        XCTAssertEqual(out.metrics["pairs/skipped"], 3)
        XCTAssertNil(out.metrics["rewards/accuracies"], "no decided pair: no accuracy to report")
    }

    func testBadRolloutsAreClearErrors() throws {
        let dpo = try ComponentRegistry.shared.objective("online-dpo")
        let f = fixture, model = f.model
        XCTAssertEqual(errorMessage { _ = try preparedLoss(dpo, f.batch(groups: [0, 0, 0, 1, 1, 1], rewards: [1, 2, 3, 4, 5, 6]), model: model) },
                       "online-dpo: prompt group 0 holds 3 completions; online DPO compares pairs: set num_generations=2")
        XCTAssertEqual(errorMessage { _ = try preparedLoss(dpo, f.batch(groups: self.groups, rewards: [1, 2, 3, 4, 5, 6]), model: model) },
                       "online-dpo: needs the reference model's log-probs, but the rollouts carry none and no reference model is set")
        var prepared = batch(rewards: [1, 2, 3, 4, 5, 6])
        try dpo.prepare(&prepared, context: ObjectiveContext(policy: model))
        XCTAssertEqual(errorMessage { _ = try dpo.loss(.rollouts(prepared.rows(0..<3)), context: ObjectiveContext(policy: model)) },
                       "online-dpo: a micro-batch holds 1 of prompt group 1's 2 completions; per_device_train_batch_size must be even so that a pair trains together")
        XCTAssertEqual(errorMessage { _ = try dpo.loss(.rollouts(self.batch(rewards: [1, 2, 3, 4, 5, 6])), context: ObjectiveContext(policy: model)) },
                       "online-dpo: the rollouts were not prepared (extra holds no preference); the host must call prepare once per rollout batch")
        let pairs = TrainingBatch(inputIDs: Tensor(shape: [1, 2], int32: [0, 1]), attentionMask: Tensor(shape: [1, 2], scalars: [1, 1]),
                                  lossMask: Tensor(shape: [1, 2], scalars: [0, 1]))
        XCTAssertEqual(errorMessage { _ = try dpo.loss(.batch(pairs), context: ObjectiveContext(policy: model)) },
                       "online-dpo: trains on rollouts (prompt datasets sampled by the policy), got a dataset batch")
    }

    /// Addition prompts on the character-level tiny model; the reward is 1 when the completion
    /// holds a 7. Online DPO with two samples per prompt raises it.
    func testOnlineDPORaisesTheTrainingReward() throws {
        let tokenizer = try CharacterChatTokenizer.make()
        let dir = try makeTemporaryFolder("learn-online-dpo")
        let url = dir.appendingPathComponent("prompts.jsonl")
        let lines = (0..<16).map { i in #"{"prompt": [{"role": "user", "content": "\#(i)+\#(i + 3)="}]}"# }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        var recipe = TrainingRecipe()
        let fields: [(String, String)] = [
            ("train_file", url.path), ("output_dir", dir.appendingPathComponent("run").path), ("objective", "online-dpo:beta=0.1"),
            ("optimizer", "adamw"), ("learning_rate", "0.02"), ("lr_scheduler_type", "constant"), ("max_steps", "40"),
            ("per_device_train_batch_size", "8"), ("num_generations", "2"), ("max_completion_length", "6"),
            ("logging_steps", "1"), ("save_steps", "1000"), ("rewards", "format:pattern=7,match=search"), ("seed", "5"),
        ]
        for (k, v) in fields { try recipe.set(k, .text(v)) }
        let model = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 11)
        try TrainingSession(recipe: recipe, pretrained: PretrainedModel(model: model, tokenizer: tokenizer, source: dir)).trainer.train()

        let entries = try String(contentsOf: dir.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .filter { !$0.contains("general_perplexity") }   // the forgetting probe's entries, not steps
            .map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double]) }
        XCTAssertEqual(entries.count, 40)
        let rewards = entries.compactMap { $0["reward"] }
        XCTAssertEqual(rewards.count, 40)
        let first = rewards.prefix(5).reduce(0, +) / 5, last = rewards.suffix(5).reduce(0, +) / 5
        print(String(format: "online-dpo: training reward %.3f (steps 1-5) -> %.3f (steps 36-40)", first, last))
        XCTAssertGreaterThan(last, first + 0.3, "reward \(first) → \(last)")
        for key in ["rewards/accuracies", "rewards/margins", "pairs/skipped", "objective/scores_margin"] {
            XCTAssertTrue(entries.contains { $0[key] != nil }, "metrics.jsonl lacks \(key)")
        }
    }
}
