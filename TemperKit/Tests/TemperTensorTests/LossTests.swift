import Foundation
import XCTest
@testable import TemperTensor

final class LossTests: XCTestCase {
    func referenceNLL(_ logits: [Float], row: Int, vocab: Int, target: Int) -> Double {
        let r = logits[(row * vocab)..<(row * vocab + vocab)].map(Double.init)
        let m = r.max()!
        return m + Foundation.log(r.map { Foundation.exp($0 - m) }.reduce(0, +)) - r[target]
    }

    func testCrossEntropyValuesAndReductions() {
        let logits = FiniteDifference.param([4, 7], seed: 1, low: -3, high: 3)
        let targets = Tensor(shape: [4], int32: [2, -100, 6, 0])
        let v = logits.scalars
        let nll = [0, 2, 3].map { referenceNLL(v, row: $0, vocab: 7, target: [2, 0, 6, 0][$0]) }
        let mean = Tensor.crossEntropy(logits: logits, targets: targets)
        XCTAssertEqual(Double(mean.item), nll.reduce(0, +) / 3, accuracy: 1e-5)
        let sum = Tensor.crossEntropy(logits: logits, targets: targets, reduction: .sum)
        XCTAssertEqual(Double(sum.item), nll.reduce(0, +), accuracy: 1e-5)
        let none = Tensor.crossEntropy(logits: logits, targets: targets, reduction: .none)
        XCTAssertEqual(none.shape, [4])
        FiniteDifference.assertClose(none.scalars, [Float(nll[0]), 0, Float(nll[1]), Float(nll[2])], tol: 1e-5)
        let w = Tensor([2, 5, 1, 0.5])
        let weighted = Tensor.crossEntropy(logits: logits, targets: targets, weights: w)
        XCTAssertEqual(Double(weighted.item), (2 * nll[0] + nll[1] + 0.5 * nll[2]) / 3.5, accuracy: 1e-5)
        let allIgnored = Tensor.crossEntropy(logits: logits, targets: Tensor(shape: [4], int32: [-1, -1, -1, -1]), ignoreIndex: -1)
        XCTAssertEqual(allIgnored.item, 0)
    }

    func testStableAtExtremeLogits() {
        let logits = Tensor(shape: [2, 3], scalars: [1e4, -1e4, 0, -1e4, 1e4, 1e4], requiresGrad: true)
        let targets = Tensor(shape: [2], int32: [0, 1])
        let loss = Tensor.crossEntropy(logits: logits, targets: targets, reduction: .none)
        FiniteDifference.assertClose(loss.scalars, [0, Float(Foundation.log(2.0))], tol: 1e-6)
        Tensor.crossEntropy(logits: logits, targets: targets).backward()
        let g = logits.grad!.scalars
        XCTAssertTrue(g.allSatisfy { $0.isFinite })
        FiniteDifference.assertClose(g, [0, 0, 0, 0, -0.25, 0.25], tol: 1e-6)
        let wrong = Tensor.crossEntropy(logits: logits.detached(), targets: Tensor(shape: [2], int32: [1, 0]), reduction: .none)
        FiniteDifference.assertClose(wrong.scalars, [2e4, 2e4 + Float(Foundation.log(2.0))], tol: 1e-7)
        let lp = Tensor.gatherLogProbs(logits: logits.detached(), ids: Tensor(shape: [2], int32: [1, 2]))
        FiniteDifference.assertClose(lp.scalars, [-2e4, -Float(Foundation.log(2.0))], tol: 1e-6)
    }

    func testGradients() {
        for (i, vocab) in [1, 7, 63, 65, 129].enumerated() {
            let logits = FiniteDifference.param([3, vocab], seed: UInt64(10 + i), low: -3, high: 3)
            let targets = Tensor(shape: [3], int32: [Int32(vocab - 1), -100, 0])
            let w = Tensor([0.5, 3, 2])
            FiniteDifference.check([logits]) { Tensor.crossEntropy(logits: $0[0], targets: targets) }
            FiniteDifference.check([logits]) { Tensor.crossEntropy(logits: $0[0], targets: targets, weights: w, reduction: .sum) }
            FiniteDifference.check([logits]) { Tensor.crossEntropy(logits: $0[0], targets: targets, reduction: .none) }
            let ids = Tensor(shape: [3], int32: [0, Int32(vocab / 2), Int32(vocab - 1)])
            FiniteDifference.check([logits]) { Tensor.gatherLogProbs(logits: $0[0], ids: ids) }
        }
    }

    func testGatherLogProbsMatchesLogSoftmax() {
        let logits = FiniteDifference.param([2, 3, 11], seed: 20)
        let ids = Tensor(shape: [2, 3], int32: [0, 5, 10, 3, 3, 7])
        let lp = Tensor.gatherLogProbs(logits: logits, ids: ids)
        XCTAssertEqual(lp.shape, [2, 3])
        let full = logits.logSoftmax()
        let expected = (0..<6).map { full[$0 / 3, $0 % 3, Int(ids.int32Values[$0])] }
        FiniteDifference.assertClose(lp.scalars, expected, tol: 1e-6)
    }
}
