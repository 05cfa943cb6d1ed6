import XCTest
@testable import TemperTensor

final class TensorCoreTests: XCTestCase {
    func testPhiloxIsReproducibleAndRestorable() {
        var a = PhiloxRNG(seed: 42)
        let first = (0..<10).map { _ in a.next32() }
        let saved = a.state
        let next = (0..<7).map { _ in a.next32() }
        var b = PhiloxRNG(seed: 42)
        XCTAssertEqual((0..<10).map { _ in b.next32() }, first)
        var c = PhiloxRNG(state: saved)
        XCTAssertEqual((0..<7).map { _ in c.next32() }, next)
        var d = PhiloxRNG(seed: 43)
        XCTAssertNotEqual((0..<10).map { _ in d.next32() }, first)
    }
}
