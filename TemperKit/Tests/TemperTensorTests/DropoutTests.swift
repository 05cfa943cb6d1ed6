import XCTest
@testable import TemperTensor

final class DropoutTests: XCTestCase {
    func testSeededMaskScaleAndRate() {
        let x = Tensor.ones([10_000])
        var r1 = PhiloxRNG(seed: 5), r2 = PhiloxRNG(seed: 5)
        let y1 = x.dropout(p: 0.25, rng: &r1).scalars, y2 = x.dropout(p: 0.25, rng: &r2).scalars
        XCTAssertEqual(y1, y2)
        XCTAssertTrue(y1.allSatisfy { $0 == 0 || Swift.abs($0 - 4.0 / 3.0) < 1e-6 })
        let dropped = Double(y1.filter { $0 == 0 }.count) / 10_000
        XCTAssertEqual(dropped, 0.25, accuracy: 0.02)
        XCTAssertNotEqual(x.dropout(p: 0.25, rng: &r1).scalars, y1)   // the generator advanced
        XCTAssertTrue(x.dropout(p: 0, rng: &r1) === x)
    }

    func testGradientUsesTheSameMask() {
        let x = FiniteDifference.param([65], seed: 6)
        var rng = PhiloxRNG(seed: 9)
        let y = x.dropout(p: 0.5, rng: &rng)
        y.sum().backward()
        XCTAssertEqual(x.grad!.scalars, y.scalars.enumerated().map { $0.element == 0 ? 0 : 2 })
    }
}

final class TrainingModeTests: XCTestCase {
    func testDropoutIsActiveOnlyInTrainingModeWithGradients() {
        XCTAssertTrue(TrainingMode.isDropoutActive)
        withEvalMode {
            XCTAssertFalse(TrainingMode.isTraining)
            XCTAssertTrue(GradMode.isEnabled, "eval mode keeps gradients")
            XCTAssertFalse(TrainingMode.isDropoutActive)
            withEvalMode { XCTAssertFalse(TrainingMode.isDropoutActive) }
            XCTAssertFalse(TrainingMode.isTraining, "nested eval mode ends only with the outer scope")
        }
        withNoGrad { XCTAssertFalse(TrainingMode.isDropoutActive) }
        XCTAssertTrue(TrainingMode.isDropoutActive)
    }
}
