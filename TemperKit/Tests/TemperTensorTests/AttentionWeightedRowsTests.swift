import XCTest
@testable import TemperTensor

/// The attention's value sum (`AttentionKernel.weightedRows`, outputs held in registers across the
/// keys) against one `RowKernels.axpy` per key, bit for bit, at widths with and without a tail.
final class AttentionWeightedRowsTests: XCTestCase {
    func testWeightedRowsEqualOneAxpyPerKeyBitForBit() {
        var rng = PhiloxRNG(seed: 31)
        for (n, width, stride) in [(0, 64, 64), (1, 8, 8), (37, 64, 64), (20, 72, 80), (9, 13, 13), (5, 3, 4)] {
            var w = (0..<max(n, 1)).map { _ in Float(rng.nextUniform()) }
            if n > 3 { w[1] = 0; w[n - 1] = 0 }   // masked keys are skipped
            let values = (0..<max(n, 1) * stride).map { _ in Float(rng.nextUniform()) - 0.5 }
            var expected = [Float](repeating: 0, count: width)
            var got = [Float](repeating: .nan, count: width)
            w.withUnsafeBufferPointer { wp in
                values.withUnsafeBufferPointer { vp in
                    expected.withUnsafeMutableBufferPointer { ep in
                        for j in 0..<n where wp[j] != 0 { RowKernels.axpy(wp[j], vp.baseAddress! + j * stride, ep.baseAddress!, width) }
                    }
                    got.withUnsafeMutableBufferPointer { gp in
                        AttentionKernel.weightedRows(wp.baseAddress!, n, values: vp.baseAddress!, stride: stride,
                                                     into: gp.baseAddress!, width: width)
                    }
                }
            }
            XCTAssertEqual(got.map(\.bitPattern), expected.map(\.bitPattern), "n=\(n) width=\(width) stride=\(stride)")
        }
    }
}
