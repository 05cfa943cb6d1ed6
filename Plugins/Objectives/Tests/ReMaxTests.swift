import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `remax`, loaded from the built plugin: the greedy baseline, the KL in the return, and the
/// REINFORCE gradient.
final class ReMaxTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["remax"]) }

    private let f = RolloutFixture(completionLengths: [2, 1], length: 3)

    func testAdvantageIsTheRewardMinusTheGreedyCompletionsReward() throws {
        let remax = try ComponentRegistry.shared.objective("remax")
        XCTAssertTrue(remax.needsGreedyBaseline)
        XCTAssertFalse(remax.needsReference)
        // No old log-probs from the host: prepare takes them from the policy, so ρ = 1.
        let (out, prepared) = try preparedLoss(remax, f.batch(groups: [0, 1], rewards: [1, 0.25], baseline: [0.5, 0.5]), model: f.model)
        assertClose(try XCTUnwrap(prepared.extra["advantages"]).scalars, [0, 0.5, 0.5, 0, -0.25, 0], tol: 1e-6)
        XCTAssertEqual(Double(out.loss.item), -(0.5 + 0.5 - 0.25) / 3, accuracy: 1e-6)
        // ∂L/∂logits[row 1, position 0] = −A/3 · (onehot(y) − softmax): REINFORCE's gradient.
        out.loss.backward()
        let grad = try XCTUnwrap(f.logits.grad).scalars
        let row = f.logits.scalars[9..<12].map(Double.init)
        let z = row.map(exp).reduce(0, +)
        let y = Int(f.ids[4])
        for j in 0..<3 {
            XCTAssertEqual(Double(grad[9 + j]), 0.25 / 3 * ((j == y ? 1 : 0) - exp(row[j]) / z), accuracy: 1e-6)
        }
    }

    func testKLPenaltyEntersTheSampledCompletionsReturn() throws {
        let remax = try ComponentRegistry.shared.objective("remax:beta=0.1")
        XCTAssertTrue(remax.needsReference)
        let old = f.perToken { r, c in self.f.logprob(r, c) }
        let ref = f.perToken { r, c in self.f.logprob(r, c) - [[0, 0.2, -0.1], [0, -0.5, 0]][r][c] }
        let (_, prepared) = try preparedLoss(remax, f.batch(groups: [0, 1], rewards: [1, 0.25], old: old, reference: ref, baseline: [0.5, 0.5]),
                                             model: f.model)
        // Row 0: A_1 = −0.02 + 0.01 + 0.5, A_2 = 0.01 + 0.5; row 1: A_1 = 0.05 − 0.25.
        assertClose(try XCTUnwrap(prepared.extra["advantages"]).scalars, [0, 0.49, 0.51, 0, -0.2, 0], tol: 1e-6)
        let model = f.model
        assertGradientsMatch([f.logits]) { _ in try remax.loss(.rollouts(prepared), context: ObjectiveContext(policy: model)).loss }
    }

    func testRolloutsWithoutGreedyRewardsAreRefused() throws {
        let remax = try ComponentRegistry.shared.objective("remax")
        XCTAssertEqual(errorMessage { _ = try preparedLoss(remax, self.f.batch(groups: [0, 1], rewards: [1, 0]), model: self.f.model) },
                       "remax: the rollouts carry no greedy-baseline rewards (baselineRewards); the host must score each prompt's greedy completion")
    }
}
