/// Why a training run stopped: a setting that does not fit the data, a non-finite loss, an
/// unreadable checkpoint. The message says what happened, where, and what to do.
public struct TrainingError: Error, CustomStringConvertible, Equatable {
    /// The full message.
    public let description: String
    /// An error with `message`.
    public init(_ message: String) { description = message }
}
