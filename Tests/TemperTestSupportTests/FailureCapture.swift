import XCTest

/// A test case that can run assertions expected to fail and return their messages instead of
/// failing: how these tests check that a helper fails when it must, and with what words.
class FailureCapturingTestCase: XCTestCase {
    private var captured: [String]?

    /// The failure messages `body` records (its assertions do not fail this test).
    func failures(_ body: () throws -> Void) rethrows -> [String] {
        captured = []
        defer { captured = nil }
        try body()
        return captured ?? []
    }

    override func recordFailure(withDescription description: String, inFile filePath: String, atLine lineNumber: Int, expected: Bool) {
        if captured != nil {
            captured?.append(description)
        } else {
            super.recordFailure(withDescription: description, inFile: filePath, atLine: lineNumber, expected: expected)
        }
    }
}
