import XCTest
@testable import TemperTensor

final class ViewTests: XCTestCase {
    func testViewsShareStorage() {
        let x = Tensor(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
        let r = x.reshape([6, -1])
        XCTAssertEqual(r.shape, [6, 4])
        XCTAssertTrue(r.storage === x.storage)
        let t = x.transpose(0, 2)
        XCTAssertEqual(t.shape, [4, 3, 2])
        XCTAssertTrue(t.storage === x.storage)
        XCTAssertEqual(t[3, 1, 1], x[1, 1, 3])
        let p = x.permute([1, 2, 0])
        XCTAssertEqual(p.shape, [3, 4, 2])
        XCTAssertEqual(p[2, 3, 1], x[1, 2, 3])
        let n = x.narrow(1, start: 1, length: 2)
        XCTAssertEqual(n.shape, [2, 2, 4])
        XCTAssertEqual(n[1, 0, 2], x[1, 1, 2])
        XCTAssertTrue(n.storage === x.storage)
        XCTAssertEqual(x.slice(2, 1..<3).scalars, [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22])
        let e = Tensor([1, 2, 3]).unsqueeze(0).expand([2, 3])
        XCTAssertEqual(e.strides, [0, 1])
        XCTAssertEqual(e.scalars, [1, 2, 3, 1, 2, 3])
        XCTAssertEqual(x.unsqueeze(1).shape, [2, 1, 3, 4])
        XCTAssertEqual(x.unsqueeze(-1).shape, [2, 3, 4, 1])
        XCTAssertEqual(x.unsqueeze(1).squeeze(1).shape, [2, 3, 4])
        XCTAssertEqual(Tensor.zeros([1, 3, 1]).squeeze().shape, [3])
        XCTAssertEqual(x.flatten(from: 1).shape, [2, 12])
        // A non-contiguous reshape copies, in the transposed order.
        XCTAssertEqual(Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]).transposed().reshape([4]).scalars, [1, 3, 2, 4])
    }

    func testViewGradients() {
        let x = FiniteDifference.param([2, 3, 5], seed: 70)
        let w = FiniteDifference.param([5, 3, 2], seed: 71)
        FiniteDifference.check([x, w]) { $0[0].transpose(0, 2) * $0[1] }
        FiniteDifference.check([x, w]) { $0[0].permute([2, 1, 0]) * $0[1] }
        FiniteDifference.check([x]) { $0[0].reshape([6, 5]).transposed().reshape([-1]) }
        FiniteDifference.check([x]) { $0[0].narrow(2, start: 1, length: 3) }
        FiniteDifference.check([x]) { $0[0].slice(0, 1..<2).squeeze(0).unsqueeze(2) }
        let b = FiniteDifference.param([3, 1], seed: 72)
        FiniteDifference.check([b]) { $0[0].expand([4, 3, 7]) }
        FiniteDifference.check([x]) { $0[0].flatten() }
    }
}
