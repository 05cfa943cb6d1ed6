import XCTest
@testable import TemperTensor

/// Gradient checking for every op family's tests: the XCTest face of `GradientCheck`.
/// (TemperKit's tests cannot use the TemperTestSupport package, which links TemperKit as a shared
/// library, while these tests link the targets they test statically: two copies in one process.)
enum FiniteDifference {
    /// A random float tensor that requires grad (values uniform in [low, high)).
    static func param(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        var rng = PhiloxRNG(seed: seed)
        return Tensor.uniform(shape, low: low, high: high, rng: &rng, requiresGrad: true)
    }

    /// Fails unless the autograd gradient of `f` matches central differences for every element of
    /// every input (see `GradientCheck.worst`).
    static func check(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Double = 1e-2, atol: Double = 1e-3,
                      file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) {
        do {
            for worst in try GradientCheck.worst(inputs, eps: eps, rtol: rtol, atol: atol, f) where !worst.withinTolerance {
                XCTFail("\(worst)", file: file, line: line)
            }
        } catch {
            XCTFail("gradient check: \(error)", file: file, line: line)
        }
    }

    /// Asserts two float arrays agree elementwise within `tol` (absolute + relative).
    static func assertClose(_ a: [Float], _ b: [Float], tol: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "element counts", file: file, line: line)
        for i in 0..<min(a.count, b.count) where !(abs(a[i] - b[i]) <= tol * (1 + abs(b[i]))) {
            XCTFail("element \(i): \(a[i]) vs \(b[i])", file: file, line: line)
            return
        }
    }
}
