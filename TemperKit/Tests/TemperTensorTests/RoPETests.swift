import Foundation
import XCTest
@testable import TemperTensor

final class RoPETests: XCTestCase {
    /// The Hugging Face formula: x·cos + rotate_half(x)·sin with cos/sin repeated over both halves.
    func reference(_ x: Tensor, theta: Double, offset: Int) -> [Float] {
        let t = x.shape[x.rank - 2], d = x.shape[x.rank - 1], h = d / 2
        let v = x.scalars
        var out = v
        for r in 0..<(v.count / d) {
            let pos = Double(offset + r % t)
            for i in 0..<h {
                let angle = pos / Foundation.pow(theta, Double(2 * i) / Double(d))
                let a = Double(v[r * d + i]), b = Double(v[r * d + h + i])
                out[r * d + i] = Float(a * Foundation.cos(angle) - b * Foundation.sin(angle))
                out[r * d + h + i] = Float(b * Foundation.cos(angle) + a * Foundation.sin(angle))
            }
        }
        return out
    }

    func testMatchesReferenceWithOffset() {
        for (d, offset) in [(2, 0), (16, 0), (18, 5), (64, 130)] {
            let x = FiniteDifference.param([2, 3, 4, d], seed: UInt64(d))
            FiniteDifference.assertClose(x.rope(theta: 10_000, positionOffset: offset).scalars,
                                         reference(x, theta: 10_000, offset: offset), tol: 1e-5)
        }
        let x = FiniteDifference.param([1, 1, 3, 8], seed: 9)
        FiniteDifference.assertClose(x.rope(theta: 100_000).scalars, reference(x, theta: 100_000, offset: 0), tol: 1e-5)
    }

    func testDecodingStepMatchesFullSequence() {
        let x = FiniteDifference.param([1, 2, 5, 8], seed: 3)
        let full = x.rope(theta: 10_000)
        let last = x.narrow(2, start: 4, length: 1).rope(theta: 10_000, positionOffset: 4)
        FiniteDifference.assertClose(last.scalars, full.narrow(2, start: 4, length: 1).scalars, tol: 1e-6)
    }

    func testGradient() {
        let x = FiniteDifference.param([2, 3, 18], seed: 4)
        FiniteDifference.check([x]) { $0[0].rope(theta: 10_000, positionOffset: 3) }
    }
}
