/// A problem with a training or evaluation data file, located precisely enough to fix by hand:
/// the file, the 1-based line, and the JSON field at fault.
public struct TrainingDataError: Error, CustomStringConvertible, Equatable {
    /// The data file.
    public let file: String
    /// 1-based line number, or nil for a problem with the file as a whole.
    public let line: Int?
    /// The JSON field at fault (`messages[2].role`), or nil when the row as a whole is wrong.
    public let field: String?
    /// What was wrong and what was expected.
    public let reason: String

    /// An error at `file:line`, about `field`.
    public init(file: String, line: Int?, field: String?, _ reason: String) {
        self.file = file
        self.line = line
        self.field = field
        self.reason = reason
    }

    public var description: String {
        var place = file
        if let line { place += ":\(line)" }
        if let field { place += ": field '\(field)'" }
        return "\(place): \(reason)"
    }
}
