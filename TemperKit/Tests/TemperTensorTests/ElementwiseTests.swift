import XCTest
@testable import TemperTensor

final class ElementwiseTests: XCTestCase {
    func testBroadcastShapesAndValues() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let b = Tensor([10, 20, 30])
        XCTAssertEqual((a + b).scalars, [11, 22, 33, 14, 25, 36])
        let c = Tensor(shape: [2, 1], scalars: [2, 3])
        XCTAssertEqual((a * c).scalars, [2, 4, 6, 12, 15, 18])
        let d = Tensor(shape: [3, 1], scalars: [1, 2, 3])
        let e = Tensor(shape: [1, 2], scalars: [10, 100])
        let s = d - e
        XCTAssertEqual(s.shape, [3, 2])
        XCTAssertEqual(s.scalars, [-9, -99, -8, -98, -7, -97])
        XCTAssertEqual((a / Tensor(scalar: 2)).scalars, [0.5, 1, 1.5, 2, 2.5, 3])
    }

    func testScalarOps() {
        let a = Tensor([1, -2, 4])
        XCTAssertEqual((a + 1).scalars, [2, -1, 5])
        XCTAssertEqual((1 - a).scalars, [0, 3, -3])
        XCTAssertEqual((a * 3).scalars, [3, -6, 12])
        XCTAssertEqual((a / 2).scalars, [0.5, -1, 2])
        XCTAssertEqual((-a).scalars, [-1, 2, -4])
        XCTAssertEqual((8 / a).scalars, [8, -4, 2])
    }

    func testSameShapeGradients() {
        for (i, n) in [1, 7, 63, 65, 129].enumerated() {
            let a = FiniteDifference.param([n], seed: UInt64(i))
            let b = FiniteDifference.param([n], seed: UInt64(100 + i), low: 0.5, high: 2)
            FiniteDifference.check([a, b]) { $0[0] + $0[1] }
            FiniteDifference.check([a, b]) { $0[0] - $0[1] }
            FiniteDifference.check([a, b]) { $0[0] * $0[1] }
            FiniteDifference.check([a, b]) { $0[0] / $0[1] }
        }
    }

    func testBroadcastGradientsReduceToInputShapes() {
        let cases: [([Int], [Int])] = [([3, 7], [7]), ([2, 1, 5], [3, 1]), ([4, 1], [1, 9]), ([2, 65], [2, 1]), ([5], [])]
        for (i, (sa, sb)) in cases.enumerated() {
            let a = FiniteDifference.param(sa, seed: UInt64(10 + i))
            let b = FiniteDifference.param(sb, seed: UInt64(20 + i), low: 0.5, high: 1.5)
            FiniteDifference.check([a, b]) { $0[0] + $0[1] }
            FiniteDifference.check([a, b]) { $0[0] - $0[1] }
            FiniteDifference.check([a, b]) { $0[0] * $0[1] }
            FiniteDifference.check([a, b]) { $0[0] / $0[1] }
            FiniteDifference.check([a, b]) { $0[1] / ($0[0] * $0[0] + 0.5) }
        }
    }

    func testScalarOpGradients() {
        let a = FiniteDifference.param([7], seed: 3, low: 0.5, high: 2)
        FiniteDifference.check([a]) { ($0[0] * 3 + 2 - 1) / 4 }
        FiniteDifference.check([a]) { 5 / $0[0] }
        FiniteDifference.check([a]) { -$0[0] }
    }

    func testStridedOperands() {
        let a = FiniteDifference.param([3, 4], seed: 5)
        let b = FiniteDifference.param([4, 3], seed: 6)
        FiniteDifference.check([a, b]) { $0[0] * $0[1].transposed() }
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual((x.transposed() + Tensor([1, 2])).scalars, [2, 6, 3, 7, 4, 8])
    }
}
