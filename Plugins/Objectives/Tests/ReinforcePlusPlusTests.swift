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

    private func batch(rewards: [Float] = [1, 0], d custom: [[Double]]? = nil) -> RolloutBatch {
        let d = custom ?? self.d
        let old = f.perToken { r, c in self.f.logprob(r, c) - self.offsets[r][c] }
        let ref = f.perToken { r, c in self.f.logprob(r, c) - self.offsets[r][c] - d[r][c] }
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

    private func k3(_ x: Double) -> Double { exp(-x) - 1 + x }

    func testKLInTheLossInsteadOfTheReward() throws {
        let rpp = try ComponentRegistry.shared.objective("reinforce-plus-plus:beta=0.1,kl_estimator=k3,use_kl_loss=true")
        XCTAssertTrue(rpp.needsReference)
        let (out, prepared) = try preparedLoss(rpp, batch(), model: f.model)
        // No KL in the reward: returns 1, 1 | 0 (the scores); mean 2/3, population variance 2/9.
        let normalized = [1.0, 1, 0].map { ($0 - 2.0 / 3) / (2.0 / 9).squareRoot() }
        let a = try XCTUnwrap(prepared.extra["advantages"]).scalars
        assertClose([a[1], a[2], a[4]], normalized.map(Float.init), tol: 1e-5)
        XCTAssertNil(prepared.extra["kl"], "no KL penalty in the reward")
        // Loss: the surrogate's token mean plus β·token mean of k3(log π_θ − log π_ref), where
        // log π_θ − log π_ref = offset + d: 0.25, −0.15 | −0.4.
        let ratios = [exp(0.05), exp(-0.05), exp(0.1)]
        let surrogate = -zip(ratios, normalized).map(*).reduce(0, +) / 3
        let kl = [k3(0.25), k3(-0.15), k3(-0.4)].reduce(0, +) / 3
        XCTAssertEqual(kl, 0.0441532, accuracy: 1e-6)
        XCTAssertEqual(Double(out.loss.item), surrogate + 0.1 * kl, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(out.metrics["kl"]), kl, accuracy: 1e-6)
        // β = 0: neither placement needs a reference.
        XCTAssertFalse(try ComponentRegistry.shared.objective("reinforce-plus-plus:beta=0,use_kl_loss=true").needsReference)
    }

    func testEveryKLEstimateIsClampedToTenAsOpenRLHFDoes() throws {
        // In the reward (k1): row 1's log-ratio of 12 counts as 10.
        let inReward = try ComponentRegistry.shared.objective("reinforce-plus-plus:beta=0.1")
        let (_, prepared) = try preparedLoss(inReward, batch(d: [[0, 0.2, -0.1], [0, 12, 0]]), model: f.model)
        assertClose(try XCTUnwrap(prepared.extra["kl"]).scalars, [0.1, 10], tol: 1e-5)
        // In the loss (k3): row 1's log π_θ − log π_ref = 0.1 − 12.1 = −12, k3 = e¹² − 13 ≈ 162742 → 10.
        let inLoss = try ComponentRegistry.shared.objective("reinforce-plus-plus:beta=0.1,kl_estimator=k3,use_kl_loss=true")
        let clamped = batch(d: [[0, 0.2, -0.1], [0, -12.1, 0]])
        let (out, _) = try preparedLoss(inLoss, clamped, model: f.model)
        XCTAssertEqual(try XCTUnwrap(out.metrics["kl"]), (k3(0.25) + k3(-0.15) + 10) / 3, accuracy: 1e-5)
        // The clamped token adds no gradient: finite differences agree with the flat clamp.
        var b = clamped
        let model = f.model
        try inLoss.prepare(&b, context: ObjectiveContext(policy: model))
        let ready = b
        assertGradientsMatch([f.logits]) { _ in try inLoss.loss(.rollouts(ready), context: ObjectiveContext(policy: model)).loss }
    }

    func testKLLossGradientMatchesFiniteDifferences() throws {
        let rpp = try ComponentRegistry.shared.objective("reinforce-plus-plus:beta=0.5,kl_estimator=k3,use_kl_loss=true")
        var b = batch()
        let model = f.model
        try rpp.prepare(&b, context: ObjectiveContext(policy: model))
        let prepared = b
        assertGradientsMatch([f.logits]) { _ in try rpp.loss(.rollouts(prepared), context: ObjectiveContext(policy: model)).loss }
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
