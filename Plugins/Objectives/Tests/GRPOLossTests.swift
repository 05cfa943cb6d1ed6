import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The `grpo` objective against its formula, worked out element by element in plain Swift from the
/// same logits: ratio, clipping, k3 KL, each aggregation, and the gradient against finite
/// differences. Loaded from the built libTemperPluginObjectives.so as `temper` loads it.
final class GRPOLossTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["grpo"]) }

    // Three rows of one prompt token + three completion columns over a vocabulary of 3. Rows 0 and 1
    // form group 0, row 2 is group 1 alone: the batch is not a multiple of the group size.
    let ids: [Int32] = [2, 0, 1, 2,   1, 2, 2, 0,   0, 1, 0, 0]
    let completion: [Float] = [0, 1, 1, 1,   0, 1, 1, 0,   0, 1, 0, 0]
    let logitValues: [Float] = [0.2, -0.5, 1.0,  1.5, 0.3, -0.2,  -1.0, 0.4, 0.9,  0.0, 0.0, 0.0,
                                0.7, 0.1, -0.3,  -0.4, 1.2, 0.5,  0.3, -0.8, 0.6,  0.0, 0.0, 0.0,
                                -0.2, 0.9, 0.4,  0.5, 0.5, -1.1,  0.0, 0.0, 0.0,  0.0, 0.0, 0.0]
    let rewards: [Float] = [1, 0, 0.5]
    // π_old and π_ref as offsets from π_θ: ratios of e^{−0.3} ≈ 0.74 and e^{0.35} ≈ 1.42 leave the
    // [0.8, 1.2] trust region on both sides.
    let oldOffsets: [Float] = [0, 0.3, -0.05, -0.35,   0, 0.02, 0.3, 0,   0, -0.4, 0, 0]
    let refOffsets: [Float] = [0, 0.2, -0.1, 0.05,   0, -0.3, 0.1, 0,   0, 0.15, 0, 0]

    private func grpo(_ settings: String) throws -> any Objective {
        try ComponentRegistry.shared.objective("grpo" + (settings.isEmpty ? "" : ":" + settings))
    }

    /// log softmax(logits[b, t−1] / T)[ids[b, t]] by hand.
    private func handLogprob(_ b: Int, _ t: Int, temperature: Double = 1) -> Double {
        let row = (0..<3).map { Double(logitValues[(b * 4 + t - 1) * 3 + $0]) / temperature }
        let m = row.max()!
        let lse = m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
        return row[Int(ids[b * 4 + t])] - lse
    }

    private func batch(old: Bool, reference: Bool, truncated: [Bool] = [false, false, false], temperature: Float = 1,
                       rewards: [Float]? = nil) -> RolloutBatch {
        var oldLP: Tensor? = nil, refLP: Tensor? = nil
        if old || reference {
            var o = [Float](repeating: 0, count: 12), r = [Float](repeating: 0, count: 12)
            for i in 0..<12 where completion[i] != 0 {
                let lp = Float(handLogprob(i / 4, i % 4, temperature: Double(temperature)))
                o[i] = lp + oldOffsets[i]
                r[i] = lp + refOffsets[i]
            }
            if old { oldLP = Tensor(shape: [3, 4], scalars: o) }
            if reference { refLP = Tensor(shape: [3, 4], scalars: r) }
        }
        return RolloutBatch(inputIDs: Tensor(shape: [3, 4], int32: ids), completionMask: Tensor(shape: [3, 4], scalars: completion),
                            groupIndex: [0, 0, 1], rewards: rewards ?? self.rewards, oldLogprobs: oldLP, referenceLogprobs: refLP,
                            truncated: truncated, temperature: temperature, maxCompletionLength: 5)
    }

    /// The loss by the formula, element by element.
    private func handLoss(lossType: String, beta: Double, epsilon: Double = 0.2, epsilonHigh: Double = 0.2, old: Bool,
                          mask: [Float]? = nil, temperature: Double = 1) -> Double {
        let std0 = (0.5 as Double).squareRoot()                     // std of {1, 0}, n − 1
        let advantages = [0.5 / (std0 + 1e-4), -0.5 / (std0 + 1e-4), 0]
        let m = mask ?? completion
        var rowSums = [0.0, 0.0, 0.0], rowCounts = [0.0, 0.0, 0.0]
        for i in 0..<12 where m[i] != 0 {
            let b = i / 4, a = advantages[b]
            let ratio = old ? Foundation.exp(-Double(oldOffsets[i])) : 1
            let clipped = min(max(ratio, 1 - epsilon), 1 + epsilonHigh)
            var l = -min(ratio * a, clipped * a)
            let d = Double(refOffsets[i])                            // log π_ref − log π_θ
            l += beta * (Foundation.exp(d) - d - 1)
            rowSums[b] += l
            rowCounts[b] += 1
        }
        let total = rowSums.reduce(0, +), tokens = rowCounts.reduce(0, +)
        switch lossType {
        case "grpo": return (0..<3).map { rowSums[$0] / max(rowCounts[$0], 1) }.reduce(0, +) / 3
        case "dr_grpo": return total / (3 * 5)
        default: return total / max(tokens, 1)
        }
    }

    private func run(_ objective: any Objective, _ rollouts: RolloutBatch, logits: Tensor? = nil) throws -> (ObjectiveOutput, FixedLogitsModel) {
        let model = FixedLogitsModel(logits ?? Tensor(shape: [3, 4, 3], scalars: logitValues, requiresGrad: true))
        var r = rollouts
        let context = ObjectiveContext(policy: model)
        try withNoGrad { try objective.prepare(&r, context: context) }
        return (try objective.loss(.rollouts(r), context: context), model)
    }

    func testFirstIterationLossIsMinusTheAdvantageWithTheGradientOfLogProbs() throws {
        // One iteration on fresh samples: ρ = 1 with the gradient of log π. Only group 0 carries
        // signal (row 2 is alone, advantage 0); dapo: Σ_t −Â_i / 6 tokens = −Â·(3 − 2)/6.
        let (out, model) = try run(try grpo(""), batch(old: false, reference: false))
        let a = 0.5 / ((0.5 as Double).squareRoot() + 1e-4)
        XCTAssertEqual(Double(out.loss.item), -a * (3 - 2) / 6, accuracy: 1e-6)
        XCTAssertEqual(out.metrics["kl"], 0)
        XCTAssertEqual(out.metrics["clip_ratio/region_mean"], 0)
        out.loss.backward()
        // d loss / d logits[0, 0, :] = −Â/6 · (onehot(ids[0,1]) − softmax(logits[0, 0])).
        let row = [0.2, -0.5, 1.0].map { Foundation.exp($0) }
        let z = row.reduce(0, +)
        let g = model.logits.grad!.scalars
        for j in 0..<3 {
            let expected = -a / 6 * ((j == Int(ids[1]) ? 1 : 0) - row[j] / z)
            XCTAssertEqual(Double(g[j]), expected, accuracy: 1e-6, "logit \(j)")
        }
        XCTAssertEqual(Array(g[27..<36]), [Float](repeating: 0, count: 9), "no loss reaches the padded positions")
    }

    func testEveryAggregationMatchesTheFormulaWithRatiosAwayFromOneAndTheKL() throws {
        for lossType in ["grpo", "bnpo", "dr_grpo", "dapo"] {
            let (out, _) = try run(try grpo("loss_type=\(lossType),beta=0.04"), batch(old: true, reference: true))
            XCTAssertEqual(Double(out.loss.item), handLoss(lossType: lossType, beta: 0.04, old: true), accuracy: 1e-5, lossType)
        }
    }

    func testClipHigherAndClipMetrics() throws {
        let objective = try grpo("loss_type=bnpo,epsilon=0.2,epsilon_high=0.28")
        let (out, _) = try run(objective, batch(old: true, reference: false))
        XCTAssertEqual(Double(out.loss.item), handLoss(lossType: "bnpo", beta: 0, epsilonHigh: 0.28, old: true), accuracy: 1e-5)
        // Ratios e^{−offset} over the 6 completion tokens: row 0 (Â > 0): 0.74, 1.05, 1.42 → one
        // above 1.28 with Â > 0; row 1 (Â < 0): 0.98, 0.74 → one below 0.8 with Â < 0; row 2: Â = 0.
        XCTAssertEqual(try XCTUnwrap(out.metrics["clip_ratio/high_mean"]), 1.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(out.metrics["clip_ratio/low_mean"]), 1.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(out.metrics["clip_ratio/region_mean"]), 2.0 / 6, accuracy: 1e-12)
    }

    func testKLIsTheK3EstimatorMeanOverCompletionTokens() throws {
        let (out, _) = try run(try grpo("beta=0.1"), batch(old: false, reference: true))
        var sum = 0.0
        for i in 0..<12 where completion[i] != 0 { let d = Double(refOffsets[i]); sum += Foundation.exp(d) - d - 1 }
        XCTAssertEqual(try XCTUnwrap(out.metrics["kl"]), sum / 6, accuracy: 1e-6)
        XCTAssertTrue(try grpo("beta=0.1").needsReference)
        XCTAssertFalse(try grpo("").needsReference)
    }

    func testLogProbsAreReadAtTheSamplingTemperature() throws {
        let (out, _) = try run(try grpo("loss_type=grpo,beta=0.5"), batch(old: true, reference: true, temperature: 0.7))
        XCTAssertEqual(Double(out.loss.item), handLoss(lossType: "grpo", beta: 0.5, old: true, temperature: 0.7), accuracy: 1e-5)
        var entropy = 0.0
        for i in 0..<12 where completion[i] != 0 {
            let row = (0..<3).map { Double(logitValues[((i / 4) * 4 + i % 4 - 1) * 3 + $0]) / 0.7 }
            let z = row.map(Foundation.exp).reduce(0, +)
            entropy += -row.map { Foundation.exp($0) / z * ($0 - Foundation.log(z)) }.reduce(0, +)
        }
        XCTAssertEqual(try XCTUnwrap(out.metrics["entropy"]), entropy / 6, accuracy: 1e-5)
    }

    func testAGroupWhoseRewardsAreAllEqualTeachesNothing() throws {
        let (out, model) = try run(try grpo("loss_type=grpo"), batch(old: true, reference: false, rewards: [2, 2, 7]))
        XCTAssertEqual(Double(out.loss.item), 0, accuracy: 1e-7)
        out.loss.backward()
        XCTAssertEqual(model.logits.grad.map { $0.scalars.map(abs).max()! } ?? 0, 0, accuracy: 1e-7)
    }

    func testMaskedTruncatedCompletionsLeaveTheLossAndAllTruncatedLeavesNothing() throws {
        let some = try grpo("loss_type=bnpo,mask_truncated_completions=true")
        let (out, _) = try run(some, batch(old: true, reference: false, truncated: [true, false, false]))
        var mask = completion
        for i in 0..<4 { mask[i] = 0 }
        XCTAssertEqual(Double(out.loss.item), handLoss(lossType: "bnpo", beta: 0, old: true, mask: mask), accuracy: 1e-5)
        let (none, _) = try run(some, batch(old: true, reference: false, truncated: [true, true, true]))
        XCTAssertEqual(Double(none.loss.item), 0)
        XCTAssertFalse(none.loss.requiresGrad, "no completion token reaches the model: nothing to back-propagate")
        // Without the option, truncated rows train as any other.
        let (kept, _) = try run(try grpo("loss_type=bnpo"), batch(old: true, reference: false, truncated: [true, true, true]))
        XCTAssertEqual(Double(kept.loss.item), handLoss(lossType: "bnpo", beta: 0, old: true), accuracy: 1e-5)
    }

    func testGradientsMatchFiniteDifferences() throws {
        for lossType in ["grpo", "dr_grpo", "dapo"] {
            let objective = try grpo("loss_type=\(lossType),beta=0.04,epsilon_high=0.28")
            let logits = Tensor(shape: [3, 4, 3], scalars: logitValues, requiresGrad: true)
            var r = batch(old: true, reference: true)
            try withNoGrad { try objective.prepare(&r, context: ObjectiveContext(policy: FixedLogitsModel(logits))) }
            assertGradientsMatch([logits], eps: 1e-3, message: lossType) { inputs in
                try objective.loss(.rollouts(r), context: ObjectiveContext(policy: FixedLogitsModel(inputs[0]))).loss
            }
        }
    }

    func testTopEntropyQuantileTrainsOnlyTheMostUncertainTokens() throws {
        // With q = 0.5 the threshold is the median of the 6 entropies (interpolated), so 3 tokens train.
        let (all, _) = try run(try grpo("loss_type=bnpo,top_entropy_quantile=1"), batch(old: true, reference: false))
        let (half, _) = try run(try grpo("loss_type=bnpo,top_entropy_quantile=0.5"), batch(old: true, reference: false))
        var entropies: [(Int, Double)] = []
        for i in 0..<12 where completion[i] != 0 {
            let row = (0..<3).map { Double(logitValues[((i / 4) * 4 + i % 4 - 1) * 3 + $0]) }
            let z = row.map(Foundation.exp).reduce(0, +)
            entropies.append((i, -row.map { Foundation.exp($0) / z * ($0 - Foundation.log(z)) }.reduce(0, +)))
        }
        let sorted = entropies.map(\.1).sorted()
        let threshold = sorted[2] + 0.5 * (sorted[3] - sorted[2])
        var mask = [Float](repeating: 0, count: 12)
        for (i, e) in entropies where e >= threshold { mask[i] = 1 }
        XCTAssertEqual(mask.reduce(0, +), 3)
        // bnpo divides by the tokens that train.
        XCTAssertEqual(Double(half.loss.item), handLoss(lossType: "bnpo", beta: 0, old: true, mask: mask), accuracy: 1e-5)
        XCTAssertNotEqual(all.loss.item, half.loss.item)
    }

    func testLossWithoutPrepareAndOnBatchesIsRefusedByName() throws {
        let objective = try grpo("")
        let context = ObjectiveContext(policy: FixedLogitsModel(Tensor(shape: [3, 4, 3], scalars: logitValues)))
        XCTAssertThrowsError(try objective.loss(.rollouts(batch(old: false, reference: false)), context: context)) {
            XCTAssertEqual("\($0)", "grpo: the rollout batch has no advantages; prepare(_:context:) must run on it before loss")
        }
        var r = batch(old: false, reference: false)
        let kl = try grpo("beta=0.1")
        try kl.prepare(&r, context: context)
        XCTAssertThrowsError(try kl.loss(.rollouts(r), context: context)) {
            XCTAssertEqual("\($0)", "grpo: beta=0.1 needs the reference's log-probabilities, and the rollout batch has none")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.objective("grpo:loss_type=ppo")) {
            XCTAssertTrue("\($0)".contains("loss_type"), "\($0)")
        }
    }
}
