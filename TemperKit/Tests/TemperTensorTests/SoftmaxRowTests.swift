import Foundation
import XCTest
@testable import TemperTensor

/// `SoftmaxRow`, the sampler's vectorised passes, against scalar arithmetic, at lengths with and
/// without a tail past the eight-lane steps.
final class SoftmaxRowTests: XCTestCase {
    func testScaleIsTheScalarProductAndReturnsTheLargestIgnoringNaN() {
        for count in [5, 16, 21] {
            var x = (0..<count).map { Float($0 % 7) * 0.37 - 1.1 }
            x[count - 2] = .nan
            x[3] = 9.5   // the largest before scaling, in the vector part
            let expected = x.map { $0 * -0.8 }
            let best = x.withUnsafeMutableBufferPointer { SoftmaxRow.scale($0.baseAddress!, count: count, by: -0.8) }
            XCTAssertEqual(x.map(\.bitPattern), expected.map(\.bitPattern), "count \(count)")
            // Scaled by −0.8 the largest is −0.8 × (−1.1) = 0.88 (the smallest input).
            XCTAssertEqual(best, Float(-1.1) * -0.8, "count \(count)")
        }
        var untouched: [Float] = [7]
        XCTAssertEqual(untouched.withUnsafeMutableBufferPointer { SoftmaxRow.scale($0.baseAddress!, count: 0, by: 2) }, -.infinity)
        XCTAssertEqual(untouched, [7])
    }

    func testExponentialSumIsWithinThreeUlpOfExpElementwiseAndSumsInDouble() {
        for count in [3, 8, 29, 49_152] {
            let x = (0..<count).map { Float(($0 * 37) % 101) * 0.25 - 20 }
            var out = [Float](repeating: .nan, count: count)
            let sum = x.withUnsafeBufferPointer { xp in
                out.withUnsafeMutableBufferPointer { SoftmaxRow.exponentialSum(xp.baseAddress!, count: count, shift: 5, into: $0.baseAddress!) }
            }
            var exact = 0.0
            for i in 0..<count {
                let e = Foundation.exp(Double(x[i]) - 5)
                exact += e
                XCTAssertEqual(Double(out[i]), e, accuracy: e * 3.6e-7, "count \(count), element \(i)")
            }
            XCTAssertEqual(sum, exact, accuracy: exact * 3.6e-7, "count \(count)")
            let withoutOutput = x.withUnsafeBufferPointer { SoftmaxRow.exponentialSum($0.baseAddress!, count: count, shift: 5, into: nil) }
            XCTAssertEqual(withoutOutput.bitPattern, sum.bitPattern, "count \(count)")
        }
        // Suppressed tokens (−∞) add nothing.
        let x: [Float] = [0, -.infinity, 0, -.infinity, 0, -.infinity, 0, -.infinity, 0, -.infinity]
        XCTAssertEqual(x.withUnsafeBufferPointer { SoftmaxRow.exponentialSum($0.baseAddress!, count: 10, shift: 0, into: nil) }, 5)
    }

    func testSubtractAndArgmaxTakeTheFirstOfTiedMaxima() {
        for count in [1, 8, 19] {
            var x = (0..<count).map { Float(($0 * 5) % 9) }
            let expected = x.map { $0 - 0.3 }
            x.withUnsafeMutableBufferPointer { SoftmaxRow.subtract(0.3, from: $0.baseAddress!, count: count) }
            XCTAssertEqual(x.map(\.bitPattern), expected.map(\.bitPattern), "count \(count)")
            var first = 0
            for i in 0..<count where x[i] > x[first] { first = i }
            XCTAssertEqual(x.withUnsafeBufferPointer { SoftmaxRow.argmax($0.baseAddress!, count: count) }, first, "count \(count)")
        }
        // 8 at index 7 (vector part) ties with index 16 (the tail): 7 is the first.
        let tied = (0..<19).map { Float(($0 * 5) % 9) }
        XCTAssertEqual(tied.withUnsafeBufferPointer { SoftmaxRow.argmax($0.baseAddress!, count: 19) }, 7)
        let suppressed = [Float](repeating: -.infinity, count: 11)
        XCTAssertEqual(suppressed.withUnsafeBufferPointer { SoftmaxRow.argmax($0.baseAddress!, count: 11) }, 0)
    }
}
