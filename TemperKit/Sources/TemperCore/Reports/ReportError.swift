import Foundation

/// A report that cannot be made: the message names the folder or file and what was expected.
public struct ReportError: Error, CustomStringConvertible, Equatable {
    /// What went wrong.
    public let description: String

    /// An error with `description`.
    public init(_ description: String) {
        self.description = description
    }
}
