import Foundation
import XCTest
@testable import TemperTensor

final class SoftmaxTests: XCTestCase {
    func testValuesAndRowSums() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 1])
        let e = [1, 2, 3].map { Foundation.exp(Double($0) - 3) }
        let z = e.reduce(0, +)
        FiniteDifference.assertClose(x.softmax().scalars, (e + e).map { Float($0 / z) }, tol: 1e-6)
        FiniteDifference.assertClose(x.logSoftmax().scalars, (e + e).map { Float(Foundation.log($0 / z)) }, tol: 1e-6)
        let big = FiniteDifference.param([3, 129], seed: 1, low: -5, high: 5).softmax().sum(axis: -1)
        FiniteDifference.assertClose(big.scalars, [1, 1, 1], tol: 1e-5)
    }

    func testStableAtExtremeLogits() {
        let x = Tensor(shape: [2, 3], scalars: [1e4, -1e4, 0, -1e4, -1e4 + 1, -1e4])
        let p = x.softmax().scalars
        XCTAssertTrue(p.allSatisfy { $0.isFinite })
        FiniteDifference.assertClose(p, [1, 0, 0, 0.211_941_56, 0.576_116_9, 0.211_941_56], tol: 1e-6)
        let lp = x.logSoftmax().scalars
        XCTAssertTrue(lp.allSatisfy { $0.isFinite })
        FiniteDifference.assertClose(lp, [0, -2e4, -1e4, -1.551_444_7, -0.551_444_7, -1.551_444_7], tol: 1e-6)
    }

    func testGradients() {
        for (i, n) in [1, 7, 63, 65, 129].enumerated() {
            let x = FiniteDifference.param([2, n], seed: UInt64(100 + i), low: -3, high: 3)
            FiniteDifference.check([x]) { $0[0].softmax() }
            FiniteDifference.check([x]) { $0[0].logSoftmax() }
        }
        let t = FiniteDifference.param([3, 4], seed: 110)
        FiniteDifference.check([t]) { $0[0].transposed().softmax() }
    }
}
