import Foundation
import XCTest
@testable import TemperTensor

final class NormalizationTests: XCTestCase {
    func testRMSNormMatchesDefinition() {
        let x = FiniteDifference.param([3, 65], seed: 1)
        let w = FiniteDifference.param([65], seed: 2)
        let y = x.rmsNorm(weight: w, eps: 1e-5).scalars
        let xs = x.scalars, ws = w.scalars
        var expected: [Float] = []
        for r in 0..<3 {
            let row = xs[(r * 65)..<(r * 65 + 65)].map(Double.init)
            let inv = 1 / (row.map { $0 * $0 }.reduce(0, +) / 65 + 1e-5).squareRoot()
            expected += row.enumerated().map { Float($0.element * inv * Double(ws[$0.offset])) }
        }
        FiniteDifference.assertClose(y, expected, tol: 1e-5)
    }

    func testLayerNormMatchesDefinition() {
        let x = FiniteDifference.param([2, 7], seed: 3, low: -2, high: 4)
        let y = x.layerNorm(weight: nil, bias: nil, eps: 1e-5).scalars
        let xs = x.scalars.map(Double.init)
        var expected: [Float] = []
        for r in 0..<2 {
            let row = Array(xs[(r * 7)..<(r * 7 + 7)])
            let mean = row.reduce(0, +) / 7
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 7
            expected += row.map { Float(($0 - mean) / (variance + 1e-5).squareRoot()) }
        }
        FiniteDifference.assertClose(y, expected, tol: 1e-5)
    }

    func testGradients() {
        for (i, d) in [1, 7, 63, 65, 129].enumerated() {
            let x = FiniteDifference.param([3, d], seed: UInt64(10 + i))
            let w = FiniteDifference.param([d], seed: UInt64(20 + i))
            let b = FiniteDifference.param([d], seed: UInt64(30 + i))
            FiniteDifference.check([x, w], eps: 1e-3, rtol: 2e-2) { $0[0].rmsNorm(weight: $0[1], eps: 1e-5) }
            if d > 1 {
                FiniteDifference.check([x, w, b], eps: 1e-3, rtol: 2e-2) { $0[0].layerNorm(weight: $0[1], bias: $0[2], eps: 1e-5) }
                FiniteDifference.check([x], eps: 1e-3, rtol: 2e-2) { $0[0].layerNorm(weight: nil, bias: nil, eps: 1e-5) }
            }
        }
        // More rows than one block of the deterministic weight-gradient sum.
        let x = FiniteDifference.param([70, 3], seed: 40), w = FiniteDifference.param([3], seed: 41)
        FiniteDifference.check([x, w], eps: 1e-3, rtol: 2e-2) { $0[0].rmsNorm(weight: $0[1], eps: 1e-6) }
    }
}
