import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `rloo`, loaded from the built plugin: its advantages and loss against TRL RLOOTrainer's
/// formulas worked by hand, and its gradient against finite differences.
final class RLOOTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["rloo"]) }

    // Groups of 3 and 2 rows (5 rows: not a multiple of num_generations = 3), completions of 2,
    // 2, 1, 2 and 1 tokens. old = current − shift_r (spread over the row's tokens): a later pass
    // over the batch (num_iterations > 1) where π_θ has moved; ref = old − 0.2 per token.
    private let fixture = RolloutFixture(completionLengths: [2, 2, 1, 2, 1])
    private let groups = [0, 0, 0, 1, 1]
    private let rewards: [Float] = [1, 0, 0.5, 2, 1]

    private func batch(shifts: [Double]) -> RolloutBatch {
        let f = fixture
        let old = f.perToken { r, c in f.logprob(r, c) - shifts[r] / Double(f.completion(r).count) }
        let ref = f.perToken { r, c in f.logprob(r, c) - shifts[r] / Double(f.completion(r).count) - 0.2 }
        return f.batch(groups: groups, rewards: rewards, old: old, reference: ref)
    }

    func testAdvantagesAndLossFollowTheFormulaByHand() throws {
        let rloo = try ComponentRegistry.shared.objective("rloo:beta=0.1")
        XCTAssertTrue(rloo.needsReference)
        XCTAssertEqual(rloo.lossWeighting, .sequences)
        let shifts = [0.3, -0.5, 0.1, 0, 0.2]
        let (out, prepared) = try preparedLoss(rloo, batch(shifts: shifts), model: fixture.model)
        // KL_i = 0.2 per token: 0.4, 0.4, 0.2 | 0.4, 0.2; r' = r − 0.1·KL = 0.96, −0.04, 0.48 | 1.96, 0.98.
        // A_i = r'_i − mean of the others: 0.96 − 0.22, −0.04 − 0.72, 0.48 − 0.46 | 0.98, −0.98.
        let advantages = [0.74, -0.76, 0.02, 0.98, -0.98]
        assertClose(try XCTUnwrap(prepared.extra["advantages"]).scalars, advantages.map(Float.init), tol: 1e-5)
        assertClose(try XCTUnwrap(prepared.extra["kl"]).scalars, [0.4, 0.4, 0.2, 0.4, 0.2], tol: 1e-5)
        // ρ_i = exp(shift_i); −min(ρA, clip(ρ, 0.8, 1.2)·A):
        // row 0: ρ = 1.350 > 1.2 with A > 0: clipped, −1.2·0.74; row 1: ρ = 0.607 < 0.8 with A < 0: clipped, +0.8·0.76;
        // row 2: −1.105·0.02; row 3: −0.98; row 4: ρ = 1.221 with A < 0: unclipped, +1.221·0.98.
        let perRow = zip(shifts, advantages).map { s, a in -min(exp(s) * a, min(max(exp(s), 0.8), 1.2) * a) }
        XCTAssertEqual(perRow[0], -1.2 * 0.74, accuracy: 1e-12)
        XCTAssertEqual(perRow[1], 0.8 * 0.76, accuracy: 1e-12)
        XCTAssertEqual(Double(out.loss.item), perRow.reduce(0, +) / 5, accuracy: 1e-5)
        XCTAssertEqual(Double(out.loss.item), -0.0170267, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(out.metrics["clip_ratio/low_mean"]), 0.2, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(out.metrics["clip_ratio/high_mean"]), 0.2, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(out.metrics["clip_ratio/region_mean"]), 0.4, accuracy: 1e-12)
        // 1.6 nats of KL over 8 completion tokens.
        XCTAssertEqual(try XCTUnwrap(out.metrics["kl"]), 0.2, accuracy: 1e-6)
    }

    func testGradientMatchesFiniteDifferences() throws {
        let rloo = try ComponentRegistry.shared.objective("rloo:beta=0.1")
        // Rows 0 and 4 deep in the clipped region (no gradient), the others inside [0.8, 1.2].
        var b = batch(shifts: [0.5, -0.05, 0, 0.02, -0.6])
        let model = fixture.model
        try rloo.prepare(&b, context: ObjectiveContext(policy: model))
        let prepared = b
        assertGradientsMatch([fixture.logits]) { _ in try rloo.loss(.rollouts(prepared), context: ObjectiveContext(policy: model)).loss }
        let out = try rloo.loss(.rollouts(prepared), context: ObjectiveContext(policy: model))
        fixture.logits.grad = nil
        out.loss.backward()
        let grad = try XCTUnwrap(fixture.logits.grad).scalars
        XCTAssertEqual(grad[0..<(fixture.length * 3)].map { abs($0) }.max(), 0, "row 0 is clipped: no gradient")
        XCTAssertGreaterThan(grad[(fixture.length * 3)..<(2 * fixture.length * 3)].map { abs($0) }.max()!, 1e-3, "row 1 is not")
    }

    func testAGroupWithEqualRewardsAndALoneCompletionGetNoGradient() throws {
        let rloo = try ComponentRegistry.shared.objective("rloo:beta=0")
        XCTAssertFalse(rloo.needsReference)
        let f = RolloutFixture(completionLengths: [2, 1, 2, 2])
        let (out, prepared) = try preparedLoss(rloo, f.batch(groups: [4, 4, 4, 9], rewards: [0.5, 0.5, 0.5, 3]), model: f.model)
        XCTAssertEqual(try XCTUnwrap(prepared.extra["advantages"]).scalars, [0, 0, 0, 0])
        XCTAssertEqual(out.loss.item, 0)
        out.loss.backward()
        XCTAssertEqual(try XCTUnwrap(f.logits.grad).scalars.map { abs($0) }.max(), 0)
    }

    func testFullyTruncatedCompletionsTrainOnNothing() throws {
        let rloo = try ComponentRegistry.shared.objective("rloo:beta=0.1,mask_truncated_completions=true")
        let f = fixture
        let (out, prepared) = try preparedLoss(rloo, f.batch(groups: groups, rewards: rewards, truncated: [Bool](repeating: true, count: 5)),
                                               model: f.model, reference: f.model)
        XCTAssertEqual(prepared.completionMask.scalars.reduce(0, +), 0)
        // No tokens: KL 0, ρ = 1, and leave-one-out advantages sum to 0 within each group.
        XCTAssertEqual(Double(out.loss.item), 0, accuracy: 1e-6)
        XCTAssertEqual(out.metrics["kl"], 0)
        XCTAssertFalse(out.loss.requiresGrad, "nothing to back-propagate: the trainer skips the backward pass")
    }

    func testARowNoRewardScoredIsLeftOutOfItsGroupsBaseline() throws {
        let rloo = try ComponentRegistry.shared.objective("rloo:beta=0")
        let (_, prepared) = try preparedLoss(rloo, fixture.batch(groups: groups, rewards: [1, .nan, 0.5, 2, 1]), model: fixture.model)
        // Group 0 scores rows 0 and 2 only: 1 − 0.5 and 0.5 − 1; row 1 carries no signal.
        assertClose(try XCTUnwrap(prepared.extra["advantages"]).scalars, [0.5, 0, -0.5, 1, -1], tol: 1e-6)
    }

    func testNormalizedAdvantagesAreWhitenedOverTheBatch() throws {
        let rloo = try ComponentRegistry.shared.objective("rloo:beta=0,normalize_advantages=true")
        let (_, prepared) = try preparedLoss(rloo, fixture.batch(groups: groups, rewards: rewards), model: fixture.model)
        // Raw A: 0.75, −0.75, 0 | 1, −1 (mean 0); std with Bessel's correction = sqrt(3.125/4).
        let std = (3.125 / 4.0).squareRoot()
        assertClose(try XCTUnwrap(prepared.extra["advantages"]).scalars, [0.75, -0.75, 0, 1, -1].map { Float($0 / (std + 1e-4)) }, tol: 1e-5)
    }

    func testBadRolloutsAreClearErrors() throws {
        let rloo = try ComponentRegistry.shared.objective("rloo")
        let f = fixture
        let model = f.model
        XCTAssertEqual(errorMessage { _ = try rloo.loss(.rollouts(f.batch(groups: self.groups, rewards: self.rewards)), context: ObjectiveContext(policy: model)) },
                       "rloo: the rollouts were not prepared (extra holds no advantages); the host must call prepare once per rollout batch")
        XCTAssertEqual(errorMessage { _ = try preparedLoss(rloo, f.batch(groups: self.groups, rewards: self.rewards), model: model) },
                       "rloo: the KL penalty (beta > 0) needs the reference model's log-probs, but the rollouts carry none and no reference model is set")
        XCTAssertEqual(errorMessage { _ = try preparedLoss(rloo, f.batch(groups: self.groups, rewards: [1, 2]), model: model) },
                       "rloo: rollout rewards has 2 entries for 5 rows")
        XCTAssertEqual(errorMessage { _ = try preparedLoss(rloo, f.batch(groups: self.groups, rewards: [1, .infinity, 0, 0, 0]), model: model) },
                       "rloo: the reward of row 1 is inf; rewards must be finite (or nil where a reward does not apply)")
        let batch = TrainingBatch(inputIDs: Tensor(shape: [1, 2], int32: [0, 1]), attentionMask: Tensor(shape: [1, 2], scalars: [1, 1]),
                                  lossMask: Tensor(shape: [1, 2], scalars: [0, 1]))
        XCTAssertEqual(errorMessage { _ = try rloo.loss(.batch(batch), context: ObjectiveContext(policy: model)) },
                       "rloo: trains on rollouts (prompt datasets sampled by the policy), got a dataset batch")
    }
}
