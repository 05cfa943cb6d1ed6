import XCTest
@testable import TemperTensor

/// The finite-difference checker itself: it passes autograd's gradients, and it catches a wrong one.
final class GradientCheckTests: XCTestCase {
    func testAutogradGradientsAreWithinTolerance() throws {
        let x = FiniteDifference.param([3, 4], seed: 5)
        let worst = try GradientCheck.worst([x]) { ($0[0] * $0[0]).sum(axis: 1) }
        XCTAssertEqual(worst.count, 1)
        XCTAssertTrue(worst[0].withinTolerance, "\(worst[0])")
        // The loss is quadratic, so central differences are exact up to rounding.
        XCTAssertEqual(worst[0].analytic, worst[0].numeric, accuracy: 1e-3)
    }

    /// `x² + x` with the square computed outside autograd: backward says 1, the truth is 2x + 1.
    func testAWrongGradientIsReportedAtItsWorstElement() throws {
        let x = Tensor([0, 0, -2, 0], requiresGrad: true)
        let worst = try GradientCheck.worst([x]) { Tensor(shape: [4], scalars: $0[0].scalars.map { $0 * $0 }) + $0[0] }
        XCTAssertFalse(worst[0].withinTolerance)
        XCTAssertEqual(worst[0].element, 2)
        XCTAssertEqual(worst[0].numeric / worst[0].analytic, -3, accuracy: 1e-3)
        XCTAssertTrue(worst[0].description.hasPrefix("input 0 element 2: analytic "), worst[0].description)
        XCTAssertEqual(x.scalars, [0, 0, -2, 0], "inputs are restored")
    }

    func testAnOutputWhoseShapeChangesIsAnError() {
        let x = Tensor([1, 2], requiresGrad: true)
        XCTAssertThrowsError(try GradientCheck.worst([x]) { $0[0].scalars[0] > 1 ? $0[0] * 2 : ($0[0] * 2).sum() }) { error in
            XCTAssertEqual("\(error)", "f returned 2 elements after a perturbation, 1 before")
        }
    }
}
