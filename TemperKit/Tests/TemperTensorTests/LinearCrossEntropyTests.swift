import Foundation
import XCTest
@testable import TemperTensor

/// `Tensor.linearCrossEntropy` against its formula and against `crossEntropy(logits: h.linear(W))`,
/// whose semantics it must keep: values, both gradients, ignored and zero-weight rows, and chunks
/// that do not divide the rows.
final class LinearCrossEntropyTests: XCTestCase {
    func testHandComputedCase() {
        // logits = h·Wᵀ: row 0 = [1, 0, 3], row 1 = [0, 2, 3]; targets 2 and 1.
        let h = Tensor(shape: [2, 2], scalars: [1, 0, 0, 1], requiresGrad: true)
        let w = Tensor(shape: [3, 2], scalars: [1, 0, 0, 2, 3, 3], requiresGrad: true)
        let result = Tensor.linearCrossEntropy(hidden: h, weight: w, targets: Tensor(shape: [2], int32: [2, 1]), chunkRows: 1)
        let e = M_E
        let loss0 = Foundation.log(e + 1 + e * e * e) - 3, loss1 = Foundation.log(1 + e * e + e * e * e) - 2
        XCTAssertEqual(Double(result.loss.item), (loss0 + loss1) / 2, accuracy: 1e-6)
        XCTAssertEqual(result.predictions.int32Values, [2, 2])
        result.loss.backward()
        // ∂loss/∂x_i = (softmax(x_i) − onehot(t_i)) / 2; dH = ∂x·W, dW = ∂xᵀ·h.
        let p0 = [e, 1, e * e * e].map { $0 / (e + 1 + e * e * e) }, p1 = [1, e * e, e * e * e].map { $0 / (1 + e * e + e * e * e) }
        let d0 = [p0[0] / 2, p0[1] / 2, (p0[2] - 1) / 2], d1 = [p1[0] / 2, (p1[1] - 1) / 2, p1[2] / 2]
        let dH: [Double] = [d0[0] * 1 + d0[2] * 3, d0[1] * 2 + d0[2] * 3, d1[0] * 1 + d1[2] * 3, d1[1] * 2 + d1[2] * 3]
        FiniteDifference.assertClose(h.grad!.scalars, dH.map(Float.init), tol: 1e-6)
        // h is the identity, so dW's row j is (∂x_0j, ∂x_1j).
        FiniteDifference.assertClose(w.grad!.scalars, [d0[0], d1[0], d0[1], d1[1], d0[2], d1[2]].map(Float.init), tol: 1e-6)
    }

    /// Targets for 2 × 7 rows over a vocabulary of 13: two ignored rows, the rest spread over it.
    let targets = Tensor(shape: [2, 7], int32: [3, -100, 12, 0, 7, 7, 1, 5, 9, -100, 11, 2, 4, 6])
    /// Per-token weights with one zero (a counted target that weighs nothing).
    let tokenWeights = Tensor(shape: [2, 7], scalars: [0.5, 2, 1, 3, 0, 1.5, 1, 1, 2, 1, 0.25, 1, 4, 1])

    func testMatchesCrossEntropyOfTheLinearLayer() {
        for reduction in LossReduction.allCases {
            for weights in [nil, tokenWeights] {
                for chunkRows in [1, 3, 4, nil] as [Int?] {
                    for weightTrains in [true, false] {
                        compare(reduction: reduction, weights: weights, chunkRows: chunkRows, weightTrains: weightTrains)
                    }
                }
            }
        }
    }

    private func compare(reduction: LossReduction, weights: Tensor?, chunkRows: Int?, weightTrains: Bool,
                         file: StaticString = #filePath, line: UInt = #line) {
        let label = "\(reduction), weights \(weights != nil), chunk \(chunkRows.map(String.init) ?? "default"), W trains \(weightTrains)"
        let h = FiniteDifference.param([2, 7, 5], seed: 3, low: -2, high: 2)
        let w = FiniteDifference.param([13, 5], seed: 4, low: -2, high: 2)
        w.requiresGrad = weightTrains
        // The output gradient: one number ≠ 1 for the scalar reductions, a different one per token for `.none`.
        let seed = reduction == .none ? FiniteDifference.param([2, 7], seed: 5).detached() : Tensor(scalar: 2.5)

        let fused = Tensor.linearCrossEntropy(hidden: h, weight: w, targets: targets, weights: weights, reduction: reduction, chunkRows: chunkRows)
        fused.loss.backward(seed)
        let (fusedH, fusedW) = (h.grad!.scalars, w.grad?.scalars)
        h.zeroGrad(); w.zeroGrad()

        let logits = h.linear(w)
        let reference = Tensor.crossEntropy(logits: logits, targets: targets, weights: weights, reduction: reduction)
        reference.backward(seed)
        XCTAssertEqual(fused.loss.shape, reference.shape, label, file: file, line: line)
        FiniteDifference.assertClose(fused.loss.scalars, reference.scalars, tol: 1e-5, file: file, line: line)
        FiniteDifference.assertClose(fusedH, h.grad!.scalars, tol: 1e-5, file: file, line: line)
        if weightTrains {
            FiniteDifference.assertClose(fusedW ?? [], w.grad!.scalars, tol: 1e-5, file: file, line: line)
        } else {
            XCTAssertNil(fusedW, "a frozen head gets no gradient: \(label)", file: file, line: line)
        }
        // Predictions: each counted row's argmax, −1 where the token weighs nothing.
        let x = logits.scalars, ids = targets.int32Values, wv = weights?.scalars
        let expected: [Int32] = (0..<14).map { r in
            guard ids[r] != -100, wv?[r] ?? 1 != 0 else { return -1 }
            let row = Array(x[(r * 13)..<(r * 13 + 13)])
            return Int32(row.firstIndex(of: row.max()!)!)
        }
        XCTAssertEqual(fused.predictions.int32Values, expected, label, file: file, line: line)
    }

    func testFiniteDifferences() {
        let h = FiniteDifference.param([2, 7, 5], seed: 6)
        let w = FiniteDifference.param([13, 5], seed: 7, low: -2, high: 2)
        FiniteDifference.check([h, w]) {
            Tensor.linearCrossEntropy(hidden: $0[0], weight: $0[1], targets: self.targets, weights: self.tokenWeights, chunkRows: 4).loss
        }
        FiniteDifference.check([h, w]) {
            Tensor.linearCrossEntropy(hidden: $0[0], weight: $0[1], targets: self.targets, reduction: .none, chunkRows: 3).loss
        }
    }

    func testEveryTokenIgnored() {
        let h = FiniteDifference.param([3, 4], seed: 8), w = FiniteDifference.param([6, 4], seed: 9)
        let result = Tensor.linearCrossEntropy(hidden: h, weight: w, targets: Tensor(shape: [3], int32: [-1, -1, -1]), ignoreIndex: -1)
        XCTAssertEqual(result.loss.item, 0)
        XCTAssertEqual(result.predictions.int32Values, [-1, -1, -1])
        result.loss.backward()
        XCTAssertEqual(h.grad!.scalars, [Float](repeating: 0, count: 12))
        XCTAssertEqual(w.grad!.scalars, [Float](repeating: 0, count: 24))
    }

    func testWithoutGradientsNothingIsRecorded() {
        let h = FiniteDifference.param([2, 7, 5], seed: 3), w = FiniteDifference.param([13, 5], seed: 4)
        let loss = withNoGrad { Tensor.linearCrossEntropy(hidden: h, weight: w, targets: targets).loss }
        XCTAssertFalse(loss.requiresGrad)
        XCTAssertEqual(loss.item, Tensor.crossEntropy(logits: h.linear(w), targets: targets).item, accuracy: 1e-6)
    }
}
