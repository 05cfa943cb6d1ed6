/// A problem with a component spec, a parameter value or a recipe field, worded for the user who typed it.
public struct SpecError: Error, CustomStringConvertible, Equatable {
    /// The full message: what was wrong, where, and what is accepted.
    public let message: String

    /// An error with `message`.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
