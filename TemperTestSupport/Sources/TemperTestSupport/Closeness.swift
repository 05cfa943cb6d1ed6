import TemperCore
import XCTest

/// Fails the current test unless `actual` and `expected` have the same count and every element
/// satisfies `|a − e| ≤ tol·(1 + |e|)` (absolute near zero, relative for large values). NaN never
/// passes. Reports the first element that differs.
public func assertClose(_ actual: [Float], _ expected: [Float], tol: Float = 1e-5,
                        file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        return XCTFail("\(actual.count) elements, expected \(expected.count)", file: file, line: line)
    }
    if let i = actual.indices.first(where: { !(abs(actual[$0] - expected[$0]) <= tol * (1 + abs(expected[$0]))) }) {
        XCTFail("element \(i): \(actual[i]) vs expected \(expected[i]) (tol \(tol))", file: file, line: line)
    }
}

/// `assertClose` for optional scores (rewards return nil for "not applicable"): nil must meet
/// nil at the same position, numbers are compared as above.
public func assertClose(_ actual: [Float?], _ expected: [Float?], tol: Float = 1e-5,
                        file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        return XCTFail("\(actual.count) elements, expected \(expected.count)", file: file, line: line)
    }
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        switch (a, e) {
        case (nil, nil): continue
        case let (a?, e?) where abs(a - e) <= tol * (1 + abs(e)): continue
        default:
            return XCTFail("element \(i): \(a.map { "\($0)" } ?? "nil") vs expected \(e.map { "\($0)" } ?? "nil") (tol \(tol))",
                           file: file, line: line)
        }
    }
}

/// `assertClose` for tensors: the shapes must be equal, then the elements are compared.
public func assertClose(_ actual: Tensor, _ expected: Tensor, tol: Float = 1e-5,
                        file: StaticString = #filePath, line: UInt = #line) {
    guard actual.shape == expected.shape else {
        return XCTFail("shape \(actual.shape), expected \(expected.shape)", file: file, line: line)
    }
    assertClose(actual.scalars, expected.scalars, tol: tol, file: file, line: line)
}

/// The largest absolute elementwise difference, for tests that assert how far apart two results
/// are (a merged model against its adapted original, say). Arrays of different counts differ by
/// infinity, and a NaN anywhere makes the answer NaN (so `XCTAssertLessThan` fails on it).
public func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        if d.isNaN { return .nan }
        worst = max(worst, d)
    }
    return worst
}
