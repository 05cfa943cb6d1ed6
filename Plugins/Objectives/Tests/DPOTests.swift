import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `dpo`, `cpo`, `simpo` and `orpo` against their formulas on hand-computed log-probabilities of a
/// bigram model, and their gradients against finite differences.
final class DPOTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["dpo", "cpo", "simpo", "orpo"]) }

    private let batch = BatchCollator.collate(handPairs.map { pairExample(prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected) }, padID: 0)

    /// (log π(y_w), log π(y_l), |y_w|, |y_l|) per pair under `model`.
    private func logps(_ model: BigramModel) -> [(w: Double, l: Double, nw: Double, nl: Double)] {
        handPairs.map { p in
            (model.logProb(p.prompt + p.chosen, from: p.prompt.count), model.logProb(p.prompt + p.rejected, from: p.prompt.count),
             Double(p.chosen.count), Double(p.rejected.count))
        }
    }

    private func objective(_ spec: String) throws -> any Objective { try ComponentRegistry.shared.objective(spec) }

    func testCollatorPutsChosenRowsFirstAndRejectedAfterInOnePaddedBatch() {
        XCTAssertEqual(batch.inputIDs.shape, [6, 6], "3 pairs → 6 rows, padded to the longest (pair 2's chosen, 3 + 3 tokens)")
        XCTAssertEqual(Array(batch.inputIDs.int32Values[0..<6]), [0, 1, 2, 3, 0, 0])
        XCTAssertEqual(Array(batch.inputIDs.int32Values[18..<24]), [0, 1, 3, 0, 0, 0], "row 3 is pair 0's rejected")
        XCTAssertEqual(Array(batch.lossMask.scalars[18..<24]), [0, 0, 1, 0, 0, 0])
        XCTAssertEqual(Array(batch.attentionMask.scalars[18..<24]), [1, 1, 1, 0, 0, 0])
        XCTAssertEqual(batch.extra[BatchKeys.pairs]?.count, 3)
    }

    func testEveryDPOLossTypeEqualsItsFormula() throws {
        let policy = BigramModel(vocab: 5, seed: 1), reference = BigramModel(vocab: 5, seed: 2)
        let p = logps(policy), r = logps(reference)
        let beta = 0.3, eps = 0.2
        func h(_ i: Int) -> Double { (p[i].w - r[i].w) - (p[i].l - r[i].l) }
        let cases: [(String, (Int) -> Double)] = [
            ("dpo:beta=0.3", { -logSigmoid(beta * h($0)) }),
            ("dpo:beta=0.3,label_smoothing=0.2", { -(1 - eps) * logSigmoid(beta * h($0)) - eps * logSigmoid(-beta * h($0)) }),
            ("dpo:beta=0.3,loss_type=hinge", { max(0, 1 - beta * h($0)) }),
            ("dpo:beta=0.3,loss_type=ipo", { i in
                let perToken = (p[i].w - r[i].w) / p[i].nw - (p[i].l - r[i].l) / p[i].nl
                return Foundation.pow(perToken - 1 / (2 * beta), 2)
            }),
            ("dpo:beta=0.3,loss_type=robust,label_smoothing=0.2", { (-(1 - eps) * logSigmoid(beta * h($0)) + eps * logSigmoid(-beta * h($0))) / (1 - 2 * eps) }),
        ]
        for (spec, perPair) in cases {
            let out = try objective(spec).loss(.batch(batch), context: ObjectiveContext(policy: policy, reference: reference))
            let expected = (0..<3).map(perPair).reduce(0, +) / 3
            XCTAssertEqual(Double(out.loss.item), expected, accuracy: 1e-5, spec)
        }
        let out = try objective("dpo:beta=0.3").loss(.batch(batch), context: ObjectiveContext(policy: policy, reference: reference))
        let chosenRewards = (0..<3).map { beta * (p[$0].w - r[$0].w) }, rejectedRewards = (0..<3).map { beta * (p[$0].l - r[$0].l) }
        XCTAssertEqual(out.metrics["rewards/chosen"]!, chosenRewards.reduce(0, +) / 3, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["rewards/rejected"]!, rejectedRewards.reduce(0, +) / 3, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["rewards/margins"]!, (0..<3).map { chosenRewards[$0] - rejectedRewards[$0] }.reduce(0, +) / 3, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["rewards/accuracies"]!, Double((0..<3).filter { chosenRewards[$0] > rejectedRewards[$0] }.count) / 3)
        XCTAssertEqual(out.metrics["logps/chosen"]!, p.map(\.w).reduce(0, +) / 3, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["logps/rejected"]!, p.map(\.l).reduce(0, +) / 3, accuracy: 1e-5)
    }

    func testDPOAgainstItselfIsLog2AndPrecomputedReferenceLogProbsReplaceTheReference() throws {
        let policy = BigramModel(vocab: 5, seed: 1)
        let same = try objective("dpo").loss(.batch(batch), context: ObjectiveContext(policy: policy, reference: policy))
        XCTAssertEqual(Double(same.loss.item), Foundation.log(2), accuracy: 1e-6, "h = 0 when the policy is its own reference")
        let reference = BigramModel(vocab: 5, seed: 2), r = logps(reference)
        var cached = batch
        cached.extra[BatchKeys.referenceLogProbs] = Tensor(shape: [6], scalars: (r.map(\.w) + r.map(\.l)).map(Float.init))
        let a = try objective("dpo").loss(.batch(batch), context: ObjectiveContext(policy: policy, reference: reference))
        let b = try objective("dpo").loss(.batch(cached), context: ObjectiveContext(policy: policy, reference: nil))
        XCTAssertEqual(a.loss.item, b.loss.item, accuracy: 1e-6)
    }

    func testReferenceFreeLossesEqualTheirFormulas() throws {
        let policy = BigramModel(vocab: 5, seed: 4)
        let p = logps(policy)
        let nll = -p.map(\.w).reduce(0, +) / p.map(\.nw).reduce(0, +)
        func mean(_ f: (Int) -> Double) -> Double { (0..<3).map(f).reduce(0, +) / 3 }
        let beta = 0.5, gamma = 0.4
        let cases: [(String, Double)] = [
            ("cpo:beta=0.5", mean { -logSigmoid(beta * (p[$0].w - p[$0].l)) } + nll),
            ("cpo:beta=0.5,cpo_alpha=0", mean { -logSigmoid(beta * (p[$0].w - p[$0].l)) }),
            ("cpo:beta=0.5,loss_type=hinge,cpo_alpha=0", mean { max(0, 1 - beta * (p[$0].w - p[$0].l)) }),
            ("cpo:beta=0.5,loss_type=ipo,cpo_alpha=0", mean { Foundation.pow(p[$0].w / p[$0].nw - p[$0].l / p[$0].nl - 1 / (2 * beta), 2) }),
            // SimPO: −log σ(β/|y_w|·log π(y_w) − β/|y_l|·log π(y_l) − γ).
            ("simpo:beta=0.5,simpo_gamma=0.4", mean { -logSigmoid(beta * p[$0].w / p[$0].nw - beta * p[$0].l / p[$0].nl - gamma) }),
            ("orpo:beta=0.5", nll - beta * mean { i in
                func logOdds(_ lp: Double) -> Double { lp - Foundation.log(1 - Foundation.exp(lp)) }
                return logSigmoid(logOdds(p[i].w / p[i].nw) - logOdds(p[i].l / p[i].nl))
            }),
        ]
        for (spec, expected) in cases {
            let out = try objective(spec).loss(.batch(batch), context: ObjectiveContext(policy: policy))
            XCTAssertEqual(Double(out.loss.item), expected, accuracy: 1e-5, spec)
        }
    }

    func testGradientsMatchFiniteDifferences() throws {
        let reference = BigramModel(vocab: 5, seed: 2)
        for spec in ["dpo:beta=0.7", "dpo:loss_type=ipo,beta=0.5", "dpo:loss_type=robust,label_smoothing=0.1", "dpo:loss_type=hinge,beta=0.2",
                     "cpo", "simpo", "orpo:beta=0.5"] {
            let o = try objective(spec)
            let table = BigramModel(vocab: 5, seed: 9).table
            assertGradientsMatch([table], message: spec) { inputs in
                try o.loss(.batch(self.batch), context: ObjectiveContext(policy: BigramModel(inputs[0]), reference: reference)).loss
            }
        }
    }

    func testBadInputIsAClearError() throws {
        let sequences = BatchCollator.collate([TokenizedExample(ids: [1, 2], lossMask: [false, true])], padID: 0)
        XCTAssertThrowsError(try objective("dpo").loss(.batch(sequences), context: ObjectiveContext(policy: BigramModel(vocab: 5, seed: 1)))) {
            XCTAssertEqual("\($0)", "dpo: needs preference data (rows with 'prompt', 'chosen' and 'rejected'); this batch is not made of pairs")
        }
        XCTAssertThrowsError(try objective("dpo").loss(.batch(batch), context: ObjectiveContext(policy: BigramModel(vocab: 5, seed: 1)))) {
            XCTAssertEqual("\($0)", "dpo: needs a reference model (the trainer sets one when the objective asks), but none was given")
        }
        XCTAssertThrowsError(try objective("dpo:loss_type=hinge,label_smoothing=0.1")) {
            XCTAssertEqual("\($0)", "dpo: label_smoothing applies to loss_type sigmoid or robust, not hinge")
        }
    }
}
