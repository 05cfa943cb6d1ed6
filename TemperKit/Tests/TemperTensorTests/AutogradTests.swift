import XCTest
@testable import TemperTensor

final class AutogradTests: XCTestCase {
    func testNoGradModeRecordsNothing() {
        let w = FiniteDifference.param([4, 3], seed: 1)
        let x = FiniteDifference.param([2, 3], seed: 2)
        let y = withNoGrad { x.linear(w).silu().softmax().sum() }
        XCTAssertNil(y.gradFn)
        XCTAssertFalse(y.requiresGrad)
        let z = x.linear(w).silu()
        XCTAssertEqual(z.gradFn?.name, "silu")
    }

    func testGradientsAccumulateAcrossBackwardCalls() {
        let x = Tensor([1, 2, 3], requiresGrad: true)
        (x * x).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [2, 4, 6])
        (x * 3).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [5, 7, 9])
        x.zeroGrad()
        XCTAssertNil(x.grad)
    }

    func testFrozenTensorsGetNoGradient() {
        let frozen = Tensor([1, 2, 3])
        let trained = Tensor([4, 5, 6], requiresGrad: true)
        let ids = Tensor(shape: [2], int32: [0, 1])
        let table = Tensor(shape: [2, 3], scalars: [1, 1, 1, 2, 2, 2])
        let e = Tensor.embedding(ids: ids, weight: table)
        (e * trained + frozen).rmsNorm(weight: Tensor.ones([3]), eps: 1e-6).sum().backward()
        XCTAssertNil(frozen.grad)
        XCTAssertNil(table.grad)
        XCTAssertNotNil(trained.grad)
    }

    func testGraphReusesSharedInputs() {
        // x feeds two branches; its gradient is the sum of both.
        let x = FiniteDifference.param([7], seed: 3)
        FiniteDifference.check([x]) { ($0[0].exp() * $0[0].sigmoid() + $0[0].tanh()).softmax() }
    }
}
