import XCTest
@testable import TemperTensor

final class EmbeddingTests: XCTestCase {
    func testGatherAndScatterAdd() {
        let w = Tensor(shape: [4, 2], scalars: [0, 1, 10, 11, 20, 21, 30, 31], requiresGrad: true)
        let ids = Tensor(shape: [2, 3], int32: [3, 0, 3, 1, 1, 1])
        let e = Tensor.embedding(ids: ids, weight: w)
        XCTAssertEqual(e.shape, [2, 3, 2])
        XCTAssertEqual(e.scalars, [30, 31, 0, 1, 30, 31, 10, 11, 10, 11, 10, 11])
        e.sum().backward()
        XCTAssertEqual(w.grad?.scalars, [1, 1, 3, 3, 0, 0, 2, 2])
    }

    func testGradient() {
        let w = FiniteDifference.param([5, 7], seed: 1)
        let ids = Tensor(shape: [3], int32: [4, 2, 4])
        FiniteDifference.check([w]) { Tensor.embedding(ids: ids, weight: $0[0]) }
    }
}
