import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `ppo`, loaded from the built plugin: the value head on the hidden states, GAE against the
/// recursion by hand, whitening, the clipped policy and value losses, the adaptive KL controller
/// and its state surviving a checkpoint, and gradients (value head included) by finite differences.
final class PPOTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["ppo"]) }

    // FixedLogitsModel's hidden states are its logits, so V(s_t) = w·logits[t − 1] + b.
    private let f = RolloutFixture(completionLengths: [2, 1], length: 3)
    private let w: [Float] = [0.5, -1, 0.25], bias: Float = 0.1
    // log π_old − log π_ref per token, and π_old = π_θ − offset (ρ = exp(offset), inside the clip).
    private let d: [[Double]] = [[0, 0.2, -0.1], [0, -0.5, 0]]
    private let offsets: [[Double]] = [[0, 0.05, -0.05], [0, 0.1, 0]]

    private func ppo(_ settings: String = "kl_coef=0.1,target=1,horizon=10,adap_kl_ctrl=true") throws -> (any Objective, [String: Tensor]) {
        let objective = try ComponentRegistry.shared.objective("ppo:" + settings)
        let params = try objective.makeParameters(for: ObjectiveModelInfo(hiddenSize: 3, vocabSize: 3, seed: 0))
        var byName: [String: Tensor] = [:]
        for p in params { byName[p.name] = p.tensor }
        byName["v_head.weight"]?.assign(from: Tensor(shape: [1, 3], scalars: w))
        byName["v_head.bias"]?.assign(from: Tensor([bias]))
        return (objective, byName)
    }

    private func batch() -> RolloutBatch {
        let old = f.perToken { r, c in self.f.logprob(r, c) - self.offsets[r][c] }
        let ref = f.perToken { r, c in self.f.logprob(r, c) - self.offsets[r][c] - self.d[r][c] }
        return f.batch(groups: [0, 1], rewards: [1, 0], old: old, reference: ref)
    }

    /// V(s_t) of row r, token c, from the fixture's logits.
    private func value(_ r: Int, _ c: Int) -> Double {
        let h = f.logits.scalars[((r * f.length + c - 1) * 3)..<((r * f.length + c) * 3)]
        return zip(h, w).reduce(Double(bias)) { $0 + Double($1.0 * $1.1) }
    }

    func testParametersAreTheValueHeadAndTheKLControllersState() throws {
        let objective = try ComponentRegistry.shared.objective("ppo")
        let params = try objective.makeParameters(for: ObjectiveModelInfo(hiddenSize: 576, vocabSize: 49152, seed: 7))
        XCTAssertEqual(params.map(\.name), ["v_head.weight", "v_head.bias"], "β is state, not a parameter")
        XCTAssertEqual(params.map(\.tensor.shape), [[1, 576], [1]])
        XCTAssertEqual(params.map(\.tensor.requiresGrad), [true, true])
        XCTAssertEqual(objective.checkpointState(), ["kl_ctl.value": 0.05].mapValues { Double(Float($0)) })
        let bound = 1 / Float(576).squareRoot()
        XCTAssertLessThanOrEqual(params[0].tensor.scalars.map { abs($0) }.max()!, bound)
        XCTAssertGreaterThan(params[0].tensor.scalars.map { abs($0) }.max()!, bound * 0.9)
        let again = try ComponentRegistry.shared.objective("ppo").makeParameters(for: ObjectiveModelInfo(hiddenSize: 576, vocabSize: 49152, seed: 7))
        XCTAssertEqual(again[0].tensor.scalars, params[0].tensor.scalars, "the run's seed fixes the head")
    }

    func testGAEReturnsWhiteningAndLossesFollowTheFormulas() throws {
        let (objective, params) = try ppo()
        let (out, prepared) = try preparedLoss(objective, batch(), model: f.model)
        // Token rewards r_t = −0.1·d_t, + score on the last token: row 0: −0.02, 1.01; row 1: 0.05.
        let v01 = value(0, 1), v02 = value(0, 2), v11 = value(1, 1)
        let a02 = 1.01 - v02                              // δ = r + γ·0 − V; nothing after it
        let a01 = (-0.02 + v02 - v01) + 0.95 * a02        // δ_1 + γλ·A_2
        let a11 = 0.05 - v11
        let advantages = [a01, a02, a11], values = [v01, v02, v11]
        let returns = zip(advantages, values).map(+)
        assertClose(try XCTUnwrap(prepared.extra["old_values"]).scalars, [0, v01, v02, 0, v11, 0].map(Float.init), tol: 1e-5)
        let r = try XCTUnwrap(prepared.extra["returns"]).scalars
        assertClose([r[1], r[2], r[4]], returns.map(Float.init), tol: 1e-5)
        let mean = advantages.reduce(0, +) / 3
        let variance = advantages.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2   // Bessel's correction, as TRL
        let whitened = advantages.map { ($0 - mean) / (variance + 1e-8).squareRoot() }
        let a = try XCTUnwrap(prepared.extra["advantages"]).scalars
        assertClose([a[1], a[2], a[4]], whitened.map(Float.init), tol: 1e-5)

        // First pass: V = V_old, so the value loss is ½·mean(A²); ρ = exp(offset) inside the clip.
        let ratios = [exp(0.05), exp(-0.05), exp(0.1)]
        let policyLoss = -zip(ratios, whitened).map(*).reduce(0, +) / 3
        let valueLoss = 0.5 * advantages.map { $0 * $0 }.reduce(0, +) / 3
        XCTAssertEqual(Double(out.loss.item), policyLoss + 0.1 * valueLoss, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(out.metrics["loss/value_avg"]), valueLoss, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["val/clipfrac_avg"], 0)
        func populationVariance(_ x: [Double]) -> Double { let m = x.reduce(0, +) / 3; return x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 3 }
        XCTAssertEqual(try XCTUnwrap(out.metrics["val/explained_variance"]), 1 - populationVariance(advantages) / populationVariance(returns), accuracy: 1e-4)
        // KL per completion: 0.1 and −0.5 (k1).
        XCTAssertEqual(try XCTUnwrap(out.metrics["objective/kl"]), -0.2, accuracy: 1e-6)
        XCTAssertEqual(try XCTUnwrap(out.metrics["objective/kl_coef"]), 0.1, accuracy: 1e-7)

        // A later PPO epoch where the value head moved by +0.5: clip(V − V_old, ±0.2) caps it.
        params["v_head.bias"]?.assign(from: Tensor([bias + 0.5]))
        let moved = try objective.loss(.rollouts(prepared), context: ObjectiveContext(policy: f.model))
        // V − R = −A, so the errors are (0.5 − A)² unclipped and (0.2 − A)² clipped.
        let clippedLoss = 0.5 * advantages.map { max((0.5 - $0) * (0.5 - $0), (0.2 - $0) * (0.2 - $0)) }.reduce(0, +) / 3
        XCTAssertEqual(try XCTUnwrap(moved.metrics["loss/value_avg"]), clippedLoss, accuracy: 1e-5)
        let clippedShare = Double(advantages.filter { (0.2 - $0) * (0.2 - $0) > (0.5 - $0) * (0.5 - $0) }.count) / 3
        XCTAssertEqual(moved.metrics["val/clipfrac_avg"], clippedShare)
    }

    func testTheAdaptiveControllerFollowsItsRuleAndResumesFromItsSavedState() throws {
        let (objective, params) = try ppo()
        var b = batch()
        try objective.prepare(&b, context: ObjectiveContext(policy: f.model))
        // Mean KL −0.2 against target 1: e = clip(−0.2/1 − 1, ±0.2) = −0.2; β = 0.1·(1 − 0.2·2/10).
        func beta(_ o: any Objective) throws -> Float { Float(try XCTUnwrap(o.checkpointState()["kl_ctl.value"])) }
        let moved = try beta(objective)
        XCTAssertEqual(moved, 0.096, accuracy: 1e-7)
        // Above the target: e = +0.2 at most.
        var far = batch()
        far.referenceLogprobs = far.referenceLogprobs! - 10
        try objective.prepare(&far, context: ObjectiveContext(policy: f.model))
        XCTAssertEqual(try beta(objective), 0.096 * (1 + 0.2 * 2 / 10), accuracy: 1e-7)

        // The checkpoint's state, handed to a new run's objective, shapes its next batch with the
        // restored β, bit for bit.
        let (resumed, _) = try ppo()
        try resumed.restoreState(["kl_ctl.value": Double(moved)])
        XCTAssertEqual(try beta(resumed).bitPattern, moved.bitPattern)
        var next = batch()
        try resumed.prepare(&next, context: ObjectiveContext(policy: f.model))
        XCTAssertEqual(try XCTUnwrap(next.extra["kl_coef"]).scalars, [moved, moved])
        let returns = try XCTUnwrap(next.extra["returns"]).scalars
        // Row 1's single token: R = A + V = r = −β·(−0.5) + 0.
        XCTAssertEqual(returns[4], moved * 0.5, accuracy: 1e-6)
        XCTAssertEqual(errorMessage { try resumed.restoreState([:]) },
                       "ppo: the checkpoint's objective_state has no valid kl_ctl.value (the KL coefficient β), got [:]; it was written by another objective or an older Temper")

        let (fixed, _) = try ppo("kl_coef=0.1,adap_kl_ctrl=false")
        var c = batch()
        try fixed.prepare(&c, context: ObjectiveContext(policy: f.model))
        XCTAssertEqual(try beta(fixed), 0.1)
    }

    func testGradientsOfPolicyAndValueHeadMatchFiniteDifferences() throws {
        let (objective, params) = try ppo()
        var b = batch()
        let model = f.model
        try objective.prepare(&b, context: ObjectiveContext(policy: model))
        let prepared = b
        let weight = try XCTUnwrap(params["v_head.weight"]), head = try XCTUnwrap(params["v_head.bias"])
        assertGradientsMatch([f.logits, weight, head], message: "value unclipped") { _ in
            try objective.loss(.rollouts(prepared), context: ObjectiveContext(policy: model)).loss
        }
        head.assign(from: Tensor([bias + 0.5]))
        assertGradientsMatch([f.logits, weight, head], message: "value clipped") { _ in
            try objective.loss(.rollouts(prepared), context: ObjectiveContext(policy: model)).loss
        }
    }

    func testFullyTruncatedCompletionsTrainOnNothing() throws {
        let (objective, _) = try ppo("kl_coef=0.1,mask_truncated_completions=true")
        var b = batch()
        b.truncated = [true, true]
        let (out, _) = try preparedLoss(objective, b, model: f.model)
        XCTAssertEqual(out.loss.item, 0)
        XCTAssertEqual(out.metrics["objective/kl"], 0)
        XCTAssertFalse(out.loss.requiresGrad, "nothing to back-propagate: the trainer skips the backward pass")
    }

    func testWithoutAValueHeadPrepareIsAClearError() throws {
        let objective = try ComponentRegistry.shared.objective("ppo")
        XCTAssertEqual(errorMessage { _ = try preparedLoss(objective, self.batch(), model: self.f.model) },
                       "ppo: no value head; the host must call makeParameters(for:) before training")
    }
}
