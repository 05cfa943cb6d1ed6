import Foundation
import XCTest
@testable import TemperTensor

final class UnaryTests: XCTestCase {
    let sizes = [1, 7, 63, 65, 129]

    func testForwardMatchesLibm() {
        let xs: [Float] = [-120, -80, -20, -3.5, -1, -0.1, 0, 0.05, 0.7, 2, 15, 60, 88.5]
        let x = Tensor(xs)
        FiniteDifference.assertClose(x.exp().scalars, xs.map { Foundation.expf($0) }, tol: 2e-6)
        FiniteDifference.assertClose(x.tanh().scalars, xs.map { Foundation.tanhf($0) }, tol: 2e-6)
        FiniteDifference.assertClose(x.sigmoid().scalars, xs.map { 1 / (1 + Foundation.expf(-$0)) }, tol: 2e-6)
        FiniteDifference.assertClose(x.silu().scalars, xs.map { $0 / (1 + Foundation.expf(-$0)) }, tol: 2e-6)
        FiniteDifference.assertClose(x.softplus().scalars, xs.map { Float(Foundation.log1p(Foundation.exp(Double($0)))) }, tol: 2e-6)
        FiniteDifference.assertClose(x.logSigmoid().scalars, xs.map { Float(-Foundation.log1p(Foundation.exp(-Double($0)))) }, tol: 2e-6)
        FiniteDifference.assertClose(x.gelu().scalars, xs.map { Float(0.5 * Double($0) * (1 + Foundation.erf(Double($0) / 2.0.squareRoot()))) }, tol: 2e-6)
        FiniteDifference.assertClose(x.gelu(approximate: true).scalars, xs.map { v -> Float in
            let d = Double(v)
            return Float(0.5 * d * (1 + Foundation.tanh(0.7978845608 * (d + 0.044715 * d * d * d))))
        }, tol: 2e-6)
        XCTAssertEqual(Tensor([89, 100]).exp().scalars, [.infinity, .infinity])
        XCTAssertEqual(Tensor([-1e4]).exp().scalars, [0])
        XCTAssertEqual(x.abs().scalars, xs.map { Swift.abs($0) })
        XCTAssertEqual(x.clamp(min: -1, max: 2).scalars, xs.map { Swift.min(Swift.max($0, -1), 2) })
        let p = Tensor([0.25, 1, 4, 9])
        FiniteDifference.assertClose(p.sqrt().scalars, [0.5, 1, 2, 3])
        FiniteDifference.assertClose(p.rsqrt().scalars, [2, 1, 0.5, 1 / 3])
        FiniteDifference.assertClose(p.log().scalars, [0.25, 1, 4, 9].map { Foundation.logf($0) })
        FiniteDifference.assertClose(p.pow(1.5).scalars, [0.125, 1, 8, 27])
        FiniteDifference.assertClose(p.pow(2).scalars, [0.0625, 1, 16, 81])
    }

    func testGradientsOnAllSizes() {
        for (i, n) in sizes.enumerated() {
            let x = FiniteDifference.param([n], seed: UInt64(40 + i), low: -3, high: 3)
            FiniteDifference.check([x]) { $0[0].exp() }
            FiniteDifference.check([x]) { $0[0].tanh() }
            FiniteDifference.check([x]) { $0[0].sigmoid() }
            FiniteDifference.check([x]) { $0[0].logSigmoid() }
            FiniteDifference.check([x]) { $0[0].softplus() }
            FiniteDifference.check([x]) { $0[0].silu() }
            FiniteDifference.check([x]) { $0[0].gelu() }
            FiniteDifference.check([x]) { $0[0].gelu(approximate: true) }
            let pos = FiniteDifference.param([n], seed: UInt64(50 + i), low: 0.5, high: 3)
            FiniteDifference.check([pos]) { $0[0].log() }
            FiniteDifference.check([pos]) { $0[0].sqrt() }
            FiniteDifference.check([pos]) { $0[0].rsqrt() }
            FiniteDifference.check([pos]) { $0[0].pow(2.5) }
            FiniteDifference.check([pos]) { $0[0].pow(2) }
        }
    }

    func testKinkedFunctionsAwayFromKinks() {
        let x = Tensor([-2, -0.7, 0.4, 1.3, 2.6, -1.6, 0.9], requiresGrad: true)
        FiniteDifference.check([x], eps: 1e-3) { $0[0].abs() }
        FiniteDifference.check([x], eps: 1e-3) { $0[0].clamp(min: -1, max: 1) }
        x.zeroGrad()
        x.clamp(min: -1, max: 1).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [0, 1, 1, 0, 0, 0, 1])
    }
}
