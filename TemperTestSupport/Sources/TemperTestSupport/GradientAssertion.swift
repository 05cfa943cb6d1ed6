import TemperCore
import XCTest

/// Fails the current test unless autograd's gradient of `f` with respect to every element of
/// every input matches central finite differences within `atol`/`rtol` (see `GradientCheck.worst`,
/// the checker TemperKit's own tests use too). One failure per input, naming its worst element
/// (and `message`, to tell apart the cases of a loop).
///
/// `inputs` must be contiguous float32 tensors that require grad (model parameters qualify); `f`
/// recomputes the output from them — it may ignore its argument and read the tensors through a
/// model — and runs `2·count + 1` times per input, so keep the tensors small.
public func assertGradientsMatch(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Double = 1e-2, atol: Double = 1e-3,
                                 message: String = "", file: StaticString = #filePath, line: UInt = #line,
                                 _ f: ([Tensor]) throws -> Tensor) {
    let context = message.isEmpty ? "" : " (\(message))"
    do {
        for worst in try GradientCheck.worst(inputs, eps: eps, rtol: rtol, atol: atol, f) where !worst.withinTolerance {
            XCTFail("gradient mismatch\(context): \(worst)", file: file, line: line)
        }
    } catch {
        XCTFail("gradient check\(context): \(error)", file: file, line: line)
    }
}
