import Foundation

/// A model file (GGUF, safetensors, config.json, an index) that cannot be read as it should be.
///
/// Every message names the file and the key or tensor involved, so a researcher pointing Temper at
/// a damaged or unsupported checkpoint learns what is wrong without a debugger.
public struct ModelFormatError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// Path of the file, as given by the caller.
    public let file: String
    /// What was wrong, naming the key or tensor.
    public let message: String

    /// An error about `file`.
    public init(file: String, _ message: String) {
        self.file = file
        self.message = message
    }

    /// `file: message`.
    public var description: String { "\(file): \(message)" }
    /// The same text as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}
