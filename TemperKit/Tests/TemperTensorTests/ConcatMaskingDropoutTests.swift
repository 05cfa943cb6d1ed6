import XCTest
@testable import TemperTensor

final class ConcatTests: XCTestCase {
    func testConcatAndSplit() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor(shape: [2, 1], scalars: [5, 6])
        let c = Tensor.concat([a, b], axis: 1)
        XCTAssertEqual(c.shape, [2, 3])
        XCTAssertEqual(c.scalars, [1, 2, 5, 3, 4, 6])
        XCTAssertEqual(Tensor.concat([a, a], axis: 0).scalars, [1, 2, 3, 4, 1, 2, 3, 4])
        let parts = c.split([1, 2], axis: -1)
        XCTAssertEqual(parts.map(\.shape), [[2, 1], [2, 2]])
        XCTAssertEqual(parts[1].scalars, [2, 5, 4, 6])
        XCTAssertEqual(c.chunk(3, axis: 1)[2].scalars, [5, 6])
    }

    func testGradients() {
        let a = FiniteDifference.param([2, 3, 4], seed: 1), b = FiniteDifference.param([2, 5, 4], seed: 2)
        FiniteDifference.check([a, b]) { Tensor.concat([$0[0], $0[1]], axis: 1) }
        FiniteDifference.check([a]) { t in
            let p = t[0].split([1, 3], axis: 2)
            return p[0] * p[1].narrow(2, start: 0, length: 1)
        }
    }
}

final class MaskingTests: XCTestCase {
    func testWhereAndMaskedFill() {
        let m = Tensor(shape: [2, 2], int32: [1, 0, 0, 1])
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]), b = Tensor([10, 20])
        XCTAssertEqual(Tensor.where(m, a, b).scalars, [1, 20, 10, 4])
        XCTAssertEqual(a.maskedFill(Tensor(shape: [2], int32: [0, 1]), -1).scalars, [1, -1, 3, -1])
        XCTAssertEqual(a.maskedFill(Tensor([1, 0]), 9).scalars, [9, 2, 9, 4])
    }

    func testGradients() {
        let m = Tensor(shape: [3, 7], int32: (0..<21).map { Int32($0 % 3 == 0 ? 1 : 0) })
        let a = FiniteDifference.param([3, 7], seed: 3), b = FiniteDifference.param([7], seed: 4)
        FiniteDifference.check([a, b]) { Tensor.where(m, $0[0], $0[1]) }
        FiniteDifference.check([a]) { $0[0].maskedFill(m, -5) }
        a.zeroGrad()
        a.maskedFill(m, 0).sum().backward()
        XCTAssertEqual(a.grad?.scalars, (0..<21).map { $0 % 3 == 0 ? 0 : 1 })
    }
}

final class DropoutTests: XCTestCase {
    func testSeededMaskScaleAndRate() {
        let x = Tensor.ones([10_000])
        var r1 = PhiloxRNG(seed: 5), r2 = PhiloxRNG(seed: 5)
        let y1 = x.dropout(p: 0.25, rng: &r1).scalars, y2 = x.dropout(p: 0.25, rng: &r2).scalars
        XCTAssertEqual(y1, y2)
        XCTAssertTrue(y1.allSatisfy { $0 == 0 || Swift.abs($0 - 4.0 / 3.0) < 1e-6 })
        let dropped = Double(y1.filter { $0 == 0 }.count) / 10_000
        XCTAssertEqual(dropped, 0.25, accuracy: 0.02)
        XCTAssertNotEqual(x.dropout(p: 0.25, rng: &r1).scalars, y1)   // the generator advanced
        XCTAssertTrue(x.dropout(p: 0, rng: &r1) === x)
    }

    func testGradientUsesTheSameMask() {
        let x = FiniteDifference.param([65], seed: 6)
        var rng = PhiloxRNG(seed: 9)
        let y = x.dropout(p: 0.5, rng: &rng)
        y.sum().backward()
        XCTAssertEqual(x.grad!.scalars, y.scalars.enumerated().map { $0.element == 0 ? 0 : 2 })
    }
}
