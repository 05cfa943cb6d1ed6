import Foundation
import XCTest

extension XCTestCase {
    /// A new empty folder under the system's temporary directory, named after `label`, removed
    /// with its contents when the current test ends.
    public func makeTemporaryFolder(_ label: String = "test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("temper-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}
