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
