import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `reinforce-plus-plus`, loaded from the built plugin: the KL-shaped reward-to-go, the global
/// normalization and the token-mean loss worked by hand, and the gradient by finite differences.
final class ReinforcePlusPlusTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["reinforce-plus-plus"]) }

    // Row 0 completes with 2 tokens, row 1 with 1. log π_old − log π_ref = d per token:
    // 0.2, −0.1 | −0.5. π_old = π_θ − offset (a later pass, ρ = exp(offset) inside the clip).
    private let f = RolloutFixture(completionLengths: [2, 1], length: 3)
    private let d: [[Double]] = [[0, 0.2, -0.1], [0, -0.5, 0]]
    private let offsets: [[Double]] = [[0, 0.05, -0.05], [0, 0.1, 0]]

    private func batch(rewards: [Float] = [1, 0]) -> RolloutBatch {
        let old = f.perToken { r, c in self.f.logprob(r, c) - self.offsets[r][c] }
        let ref = f.perToken { r, c in self.f.logprob(r, c) - self.offsets[r][c] - self.d[r][c] }
        return f.batch(groups: [0, 0], rewards: rewards, old: old, reference: ref)
    }

    func testKLShapedReturnsAreNormalizedOverTheBatch() throws {
        let rpp = try ComponentRegistry.shared.objective("reinforce-plus-plus:beta=0.1")
        XCTAssertEqual(rpp.lossWeighting, .tokens)
        let (out, prepared) = try preparedLoss(rpp, batch(), model: f.model)
        // r_t = −0.1·d_t, plus the score on the last token: row 0: −0.02, 0.01 + 1; row 1: 0.05 + 0.
        // Reward-to-go (γ = 1): 0.99, 1.01 | 0.05. Mean 2.05/3, population variance over the 3 tokens.
        let returns = [0.99, 1.01, 0.05]
        let mean = returns.reduce(0, +) / 3
        let std = (returns.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 3).squareRoot()
        let normalized = returns.map { ($0 - mean) / std }
        XCTAssertEqual(normalized[2], -1.41397, accuracy: 1e-4)
        let a = try XCTUnwrap(prepared.extra["advantages"]).scalars
        assertClose([a[1], a[2], a[4]], normalized.map(Float.init), tol: 1e-5)
        XCTAssertEqual([a[0], a[3], a[5]], [0, 0, 0], "no advantage outside the completion")
        // Token mean of −min(ρÂ, clip(ρ)·Â) with ρ = exp(offset), all inside [0.8, 1.2].
        let ratios = [exp(0.05), exp(-0.05), exp(0.1)]
        XCTAssertEqual(Double(out.loss.item), -zip(ratios, normalized).map(*).reduce(0, +) / 3, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["clip_ratio/region_mean"], 0)
        XCTAssertEqual(try XCTUnwrap(out.metrics["kl"]), (0.2 - 0.1 - 0.5) / 3, accuracy: 1e-6)
    }

    func testKLEstimators() throws {
        for (name, k) in [("k1", { (x: Double) in x }), ("k2", { (x: Double) in x * x / 2 }), ("k3", { (x: Double) in exp(-x) - 1 + x })] {
            let rpp = try ComponentRegistry.shared.objective("reinforce-plus-plus:beta=0.1,kl_estimator=\(name)")
            let (_, prepared) = try preparedLoss(rpp, batch(), model: f.model)
            assertClose(try XCTUnwrap(prepared.extra["kl"]).scalars, [Float(k(0.2) + k(-0.1)), Float(k(-0.5))], tol: 1e-6)
        }
        XCTAssertEqual(exp(-0.2) - 1 + 0.2, 0.018731, accuracy: 1e-6)
    }

    func testGroupBaselineSubtractsThePromptsMeanRewardFirst() throws {
        let rpp = try ComponentRegistry.shared.objective("reinforce-plus-plus:beta=0,advantage_estimator=reinforce_baseline")
        XCTAssertFalse(rpp.needsReference)
        let (_, prepared) = try preparedLoss(rpp, batch(rewards: [3, 1]), model: f.model)
        // Scores 1 and −1 (mean 2 removed); returns 1, 1 | −1; mean 1/3, population std sqrt(8/9).
        let returns = [1.0, 1, -1], mean = 1.0 / 3, std = (8.0 / 9).squareRoot()
        let a = try XCTUnwrap(prepared.extra["advantages"]).scalars
        assertClose([a[1], a[2], a[4]], returns.map { Float(($0 - mean) / std) }, tol: 1e-5)
    }

    func testGradientMatchesFiniteDifferences() throws {
        let rpp = try ComponentRegistry.shared.objective("reinforce-plus-plus:beta=0.1,kl_estimator=k3")
        var b = batch()
        let model = f.model
        try rpp.prepare(&b, context: ObjectiveContext(policy: model))
        let prepared = b
        assertGradientsMatch([f.logits]) { _ in try rpp.loss(.rollouts(prepared), context: ObjectiveContext(policy: model)).loss }
    }
}
