import XCTest
@testable import TemperTensor

final class ReductionTests: XCTestCase {
    func testSumMeanValuesAndShapes() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(x.sum().item, 21)
        XCTAssertEqual(x.sum().shape, [])
        XCTAssertEqual(x.sum(axis: 0).scalars, [5, 7, 9])
        XCTAssertEqual(x.sum(axis: -1).scalars, [6, 15])
        XCTAssertEqual(x.sum(axis: 1, keepDims: true).shape, [2, 1])
        XCTAssertEqual(x.mean(axis: 0).scalars, [2.5, 3.5, 4.5])
        XCTAssertEqual(x.mean().item, 3.5)
        XCTAssertEqual(x.sum(axes: [0, 1], keepDims: true).shape, [1, 1])
        XCTAssertEqual(x.amax(axis: 1).scalars, [3, 6])
        XCTAssertEqual(x.amax(axis: 0, keepDims: true).shape, [1, 3])
        XCTAssertEqual(x.amax().item, 6)
    }

    func testFirstNonFiniteIndexFindsTheFirstInEveryPosition() {
        for n in [1, 15, 16, 17, 4095, 4096, 4097, 9000] {
            XCTAssertNil(Tensor(shape: [n], scalars: (0..<n).map { Float($0) * 1e30 }).firstNonFiniteIndex(), "n \(n)")
            for at in Set([0, n / 2, n - 1]) {
                for bad in [Float.nan, .infinity, -.infinity] {
                    var v = [Float](repeating: -3, count: n)
                    v[at] = bad
                    if at + 1 < n { v[n - 1] = .nan }
                    XCTAssertEqual(Tensor(shape: [n], scalars: v).firstNonFiniteIndex(), at, "n \(n), \(bad) at \(at)")
                }
            }
        }
        // A strided view is scanned in its own element order.
        let t = Tensor(shape: [2, 3], scalars: [0, 1, 2, .nan, 4, 5]).transpose(0, 1)
        XCTAssertEqual(t.firstNonFiniteIndex(), 1)
    }

    func testGradients() {
        for (i, shape) in [[1], [7], [3, 65], [2, 3, 7], [129]].enumerated() {
            let x = FiniteDifference.param(shape, seed: UInt64(60 + i))
            FiniteDifference.check([x]) { $0[0].sum() }
            FiniteDifference.check([x]) { $0[0].mean() }
            FiniteDifference.check([x]) { $0[0].sum(axis: -1) }
            FiniteDifference.check([x]) { $0[0].mean(axis: 0, keepDims: true) }
            FiniteDifference.check([x], eps: 1e-3) { $0[0].amax(axis: -1) }
            if shape.count == 3 { FiniteDifference.check([x]) { $0[0].sum(axes: [0, 2]) } }
        }
    }

    func testMaxGradientGoesToTheMaximum() {
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 2, 7, 0, 3], requiresGrad: true)
        x.amax(axis: 1).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [0, 1, 0, 1, 0, 0])
    }
}
