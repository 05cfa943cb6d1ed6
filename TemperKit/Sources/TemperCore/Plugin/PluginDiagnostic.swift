/// Why one plugin file was not loaded. Loading goes on with the other files.
public struct PluginDiagnostic: Equatable, CustomStringConvertible, Sendable {
    /// The file that was refused.
    public let file: String
    /// What is wrong with it.
    public let reason: String

    /// A diagnostic for `file`.
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "plugin \(file): \(reason)" }
}

/// The outcome of a load: libraries that registered components, and files that were refused.
public struct PluginLoadReport: Sendable {
    /// Paths of libraries loaded by this call.
    public var loaded: [String] = []
    /// Files refused by this call.
    public var diagnostics: [PluginDiagnostic] = []

    /// An empty report.
    public init() {}

    /// Appends another report.
    public mutating func append(_ other: PluginLoadReport) {
        loaded += other.loaded
        diagnostics += other.diagnostics
    }
}
