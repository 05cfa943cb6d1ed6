import TemperCore
import TemperTestSupport
import XCTest

final class GradientAssertionTests: FailureCapturingTestCase {
    func testPassesOnAutogradGradients() {
        let x = Tensor([0.3, -1.2, 2], requiresGrad: true)
        let w = Tensor([0.5, 1, -0.7], requiresGrad: true)
        XCTAssertEqual(failures { assertGradientsMatch([x, w]) { ($0[0].tanh() * $0[1]).softmax() } }, [])
    }

    /// `x² + x` whose square is computed outside autograd: backward sees d/dx = 1, the finite
    /// difference sees 2x + 1. Only element 1 (x = 3) differs, by a factor of 7.
    func testFailsOnAWrongGradientNamingTheWorstElement() throws {
        let x = Tensor([0, 3, 0], requiresGrad: true)
        let untracked = { (x: Tensor) in Tensor(shape: x.shape, scalars: x.scalars.map { $0 * $0 }) + x }
        let messages = failures { assertGradientsMatch([x]) { untracked($0[0]) } }
        XCTAssertEqual(messages.count, 1, "\(messages)")
        XCTAssertTrue(messages.first?.contains("gradient mismatch: input 0 element 1: analytic ") == true, "\(messages)")

        let worst = try XCTUnwrap(try GradientCheck.worst([x]) { untracked($0[0]) }.first)
        XCTAssertFalse(worst.withinTolerance)
        XCTAssertEqual(worst.element, 1)
        XCTAssertEqual(worst.numeric / worst.analytic, 7, accuracy: 1e-3)
        XCTAssertEqual(x.scalars, [0, 3, 0], "inputs are restored after perturbation")
    }

    func testUnusableInputsAndOutputsAreNamed() {
        let frozen = Tensor([1, 2])
        XCTAssertEqual(failures { assertGradientsMatch([frozen]) { $0[0] * 2 } },
                       ["failed - gradient check: input 0 (shape [2], float32) must be a contiguous float32 tensor that requires grad"])
        let a = Tensor([1, 2], requiresGrad: true), b = Tensor([3], requiresGrad: true)
        XCTAssertEqual(failures { assertGradientsMatch([a, b]) { $0[0] * 2 } },
                       ["failed - gradient check: input 1 got no gradient from backward()"])
        XCTAssertEqual(failures { assertGradientsMatch([a]) { _ in Tensor([5]) } },
                       ["failed - gradient check: the output (shape [1]) does not depend on any input through autograd"])
    }
}
