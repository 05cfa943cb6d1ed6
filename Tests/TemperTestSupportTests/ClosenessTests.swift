import TemperCore
import TemperTestSupport
import XCTest

final class ClosenessTests: FailureCapturingTestCase {
    func testArraysWithinToleranceAbsoluteNearZeroRelativeWhenLarge() {
        XCTAssertEqual(failures {
            assertClose([1, 1000, 0], [1 + 5e-6, 1000.004, 9e-6])
            assertClose([0.5], [0.51], tol: 0.01)
        }, [])
        XCTAssertEqual(failures { assertClose([1, 2, 3], [1, 2.1, 3]) }, ["failed - element 1: 2.0 vs expected 2.1 (tol 1e-05)"])
        XCTAssertEqual(failures { assertClose([1, .nan], [1, .nan]) }, ["failed - element 1: nan vs expected nan (tol 1e-05)"])
        XCTAssertEqual(failures { assertClose([1], [1, 2]) }, ["failed - 1 elements, expected 2"])
    }

    func testOptionalScoresMatchNilForNil() {
        XCTAssertEqual(failures { assertClose([nil, 0.5], [nil, 0.5 + 1e-7]) }, [])
        XCTAssertEqual(failures { assertClose([nil, 0.5], [0, 0.5]) }, ["failed - element 0: nil vs expected 0.0 (tol 1e-05)"])
        XCTAssertEqual(failures { assertClose([1, 0.25], [1, nil]) }, ["failed - element 1: 0.25 vs expected nil (tol 1e-05)"])
    }

    func testTensorsCompareShapesFirst() {
        XCTAssertEqual(failures { assertClose(Tensor(shape: [2, 1], scalars: [1, 2]), Tensor(shape: [1, 2], scalars: [1, 2])) },
                       ["failed - shape [2, 1], expected [1, 2]"])
        XCTAssertEqual(failures { assertClose(Tensor([1, 2]), Tensor([1, 3])) }, ["failed - element 1: 2.0 vs expected 3.0 (tol 1e-05)"])
    }

    func testMaxDifference() {
        XCTAssertEqual(maxDifference([1, -2, 3], [1.5, -2, 1]), 2)
        XCTAssertEqual(maxDifference([1], [1, 2]), .infinity)
        XCTAssertTrue(maxDifference([.nan, 5], [0, 0]).isNaN)
    }
}
