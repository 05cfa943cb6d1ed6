import XCTest
@testable import TemperTensor

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
