import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `kto`, `reward-modeling` and `prm` against their formulas on a bigram model, and their gradients.
final class KTOAndRewardModelTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["kto", "reward-modeling", "prm"]) }

    private func objective(_ spec: String) throws -> any Objective { try ComponentRegistry.shared.objective(spec) }

    /// Unpaired rows: (prompt, completion, desirable).
    private let rows: [(prompt: [Int32], completion: [Int32], label: Bool)] = [([0, 1], [2, 3], true), ([1], [4], false), ([3, 3], [0, 1, 2], true)]

    private var unpairedBatch: TrainingBatch {
        BatchCollator.collate(rows.map { r in
            var e = TokenizedExample(ids: r.prompt + r.completion, lossMask: (r.prompt + r.completion).indices.map { $0 >= r.prompt.count })
            e.promptLength = r.prompt.count
            e.label = r.label
            return e
        }, padID: 0)
    }

    func testKTOEqualsItsFormulaWithTheKLReferencePointFromMismatchedPairs() throws {
        let policy = BigramModel(vocab: 5, seed: 11), reference = BigramModel(vocab: 5, seed: 12)
        let beta = 0.4, wD = 1.5, wU = 0.7
        // KL rows: prompt i with the completion of row i − 1 (cyclically).
        let kl = rows.indices.map { i -> Double in
            let ids = rows[i].prompt + rows[(i + rows.count - 1) % rows.count].completion
            return policy.logProb(ids, from: rows[i].prompt.count) - reference.logProb(ids, from: rows[i].prompt.count)
        }
        let z0 = max(0, kl.reduce(0, +) / Double(kl.count))
        let losses = rows.map { r -> Double in
            let ids = r.prompt + r.completion
            let ratio = policy.logProb(ids, from: r.prompt.count) - reference.logProb(ids, from: r.prompt.count)
            return r.label ? wD * (1 - sigmoid(beta * (ratio - z0))) : wU * (1 - sigmoid(beta * (z0 - ratio)))
        }
        let out = try objective("kto:beta=0.4,desirable_weight=1.5,undesirable_weight=0.7")
            .loss(.batch(unpairedBatch), context: ObjectiveContext(policy: policy, reference: reference))
        XCTAssertEqual(Double(out.loss.item), losses.reduce(0, +) / 3, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["kl"]!, z0, accuracy: 1e-5)
        XCTAssertEqual(Array(unpairedBatch.extra[BatchKeys.klInputIDs]!.int32Values[0..<5]), [0, 1, 0, 1, 2], "prompt 0 + completion of row 2")
    }

    func testKTOGradientTreatsTheReferencePointAsAConstant() throws {
        let reference = BigramModel(vocab: 5, seed: 12)
        let o = try objective("kto:beta=0.4")
        let table = BigramModel(vocab: 5, seed: 13).table
        // z₀ is detached: finite differences must see it fixed too, so compare against a loss whose
        // z₀ was computed once from the unperturbed table.
        let z0Out = try o.loss(.batch(unpairedBatch), context: ObjectiveContext(policy: BigramModel(table), reference: reference))
        let z0 = Float(z0Out.metrics["kl"]!)
        XCTAssertGreaterThanOrEqual(z0, 0)
        let grad: [Float] = try {
            let t = table.copy()
            t.requiresGrad = true
            try o.loss(.batch(unpairedBatch), context: ObjectiveContext(policy: BigramModel(t), reference: reference)).loss.backward()
            return t.grad!.scalars
        }()
        // The same loss written with z₀ as a constant: its autograd gradient must equal the
        // objective's and match finite differences (z₀ held fixed).
        let batch = unpairedBatch
        let desirable = Tensor(shape: [3], scalars: rows.map { $0.label ? 1 : 0 })
        func fixedPointLoss(_ t: Tensor) throws -> Tensor {
            let lp = Tensor.gatherLogProbs(logits: try BigramModel(t).logits(inputIDs: batch.inputIDs, attentionMask: nil), ids: shifted(batch.inputIDs))
            let refLp = Tensor.gatherLogProbs(logits: try reference.logits(inputIDs: batch.inputIDs, attentionMask: nil), ids: shifted(batch.inputIDs))
            let r = ((lp - refLp.detached()) * shiftedMask(batch.lossMask)).sum(axis: 1)
            return ((1 - ((r - z0) * 0.4).sigmoid()) * desirable + (1 - ((z0 - r) * 0.4).sigmoid()) * (1 - desirable)).mean()
        }
        let t = table.copy()
        t.requiresGrad = true
        try fixedPointLoss(t).backward()
        assertClose(grad, t.grad!.scalars, tol: 1e-5)
        assertGradientsMatch([table]) { inputs in try fixedPointLoss(inputs[0]) }
    }

    func testRewardModelIsBradleyTerryOnTheLastRealTokenWithMarginAndCentering() throws {
        let o = try objective("reward-modeling:center_rewards_coefficient=0.01")
        let head = try o.makeParameters(for: ObjectiveModelInfo(hiddenSize: 5, vocabSize: 5, seed: 1))
        XCTAssertEqual(head.map(\.name), ["score.weight"])
        XCTAssertEqual(head[0].tensor.shape, [1, 5])
        let w: [Float] = [0.5, -1, 0.25, 2, -0.5]
        head[0].tensor.assign(from: Tensor(shape: [1, 5], scalars: w))
        let policy = BigramModel(vocab: 5, seed: 5)
        let margins: [Float] = [0.5, 0, -1]
        // Pad id 4: the second pair's rejected ends in 4 and is read one token earlier, as transformers reads it.
        let batch = BatchCollator.collate(handPairs.enumerated().map { pairExample(prompt: $1.prompt, chosen: $1.chosen, rejected: $1.rejected, margin: margins[$0]) },
                                          padID: 4)
        let table = policy.table.scalars
        func reward(_ ids: [Int32]) -> Double {
            let last = ids.lastIndex { $0 != 4 } ?? 0
            return (0..<5).reduce(0.0) { $0 + Double(table[Int(ids[last]) * 5 + $1]) * Double(w[$1]) }
        }
        let rw = handPairs.map { reward($0.prompt + $0.chosen) }, rl = handPairs.map { reward($0.prompt + $0.rejected) }
        let bt = (0..<3).map { -logSigmoid(rw[$0] - rl[$0] - Double(margins[$0])) }.reduce(0, +) / 3
        let centre = 0.01 * (0..<3).map { Foundation.pow(rw[$0] + rl[$0], 2) }.reduce(0, +) / 3
        let out = try o.loss(.batch(batch), context: ObjectiveContext(policy: policy))
        XCTAssertEqual(Double(out.loss.item), bt + centre, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["accuracy"]!, Double((0..<3).filter { rw[$0] > rl[$0] }.count) / 3)
        XCTAssertEqual(out.metrics["margin"]!, (0..<3).map { rw[$0] - rl[$0] }.reduce(0, +) / 3, accuracy: 1e-5)
        assertGradientsMatch([head[0].tensor]) { _ in try o.loss(.batch(batch), context: ObjectiveContext(policy: policy)).loss }
        let t = BigramModel(vocab: 5, seed: 6).table
        assertGradientsMatch([t]) { inputs in try o.loss(.batch(batch), context: ObjectiveContext(policy: BigramModel(inputs[0]))).loss }
    }

    func testPRMIsCrossEntropyAtStepEnds() throws {
        let o = try objective("prm")
        let head = try o.makeParameters(for: ObjectiveModelInfo(hiddenSize: 5, vocabSize: 5, seed: 1))
        XCTAssertEqual(head[0].tensor.shape, [2, 5])
        var e = TokenizedExample(ids: [0, 1, 2, 3, 1, 4], lossMask: [false, false, true, false, false, true])
        e.stepLabels = [-100, -100, 1, -100, -100, 0]
        let batch = BatchCollator.collate([e], padID: 0)
        let policy = BigramModel(vocab: 5, seed: 7)
        let table = policy.table.scalars, w = head[0].tensor.scalars
        func logit(_ token: Int32, _ label: Int) -> Double { (0..<5).reduce(0.0) { $0 + Double(table[Int(token) * 5 + $1]) * Double(w[label * 5 + $1]) } }
        func nll(_ token: Int32, _ label: Int) -> Double {
            let a = logit(token, 0), b = logit(token, 1)
            return -((label == 1 ? b : a) - Foundation.log(Foundation.exp(a) + Foundation.exp(b)))
        }
        let out = try o.loss(.batch(batch), context: ObjectiveContext(policy: policy))
        XCTAssertEqual(Double(out.loss.item), (nll(2, 1) + nll(4, 0)) / 2, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["steps"], 2)
        assertGradientsMatch([head[0].tensor]) { _ in try o.loss(.batch(batch), context: ObjectiveContext(policy: policy)).loss }
    }

    private func shifted(_ ids: Tensor) -> Tensor {
        let b = ids.shape[0], t = ids.shape[1], v = ids.int32Values
        return Tensor(shape: [b, t], int32: (0..<(b * t)).map { $0 % t == t - 1 ? 0 : v[$0 + 1] })
    }

    private func shiftedMask(_ mask: Tensor) -> Tensor {
        let b = mask.shape[0], t = mask.shape[1], m = mask.scalars
        return Tensor(shape: [b, t], scalars: (0..<(b * t)).map { $0 % t == t - 1 ? 0 : m[$0 + 1] })
    }
}
