import Foundation

/// Folders of the Temper checkout this package is built from (found from this file's path, so
/// they are right for in-tree tests and for an out-of-tree package that depends on this one by path).
public enum TemperRepository {
    /// The repository root (this file is TemperTestSupport/Sources/TemperTestSupport/TemperRepository.swift).
    public static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `fixtures/`: reference data, each file's origin described in fixtures/README.md.
    public static var fixtures: URL { root.appendingPathComponent("fixtures") }

    /// `Plugins/`: where the manifests of C plugins built into the build folder are found.
    public static var plugins: URL { root.appendingPathComponent("Plugins") }
}
