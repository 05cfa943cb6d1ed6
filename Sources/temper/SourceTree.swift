import Foundation

/// Where this `temper` was built from, known at compile time.
///
/// C plugins built from `Plugins/<X>/` land in the build folder without their manifest; the loader
/// finds it in `<source root>/Plugins/<X>/temper-plugin.json`. An installed copy of a C plugin
/// carries its manifest beside the library instead (`libTemperPlugin<X>.json`).
enum SourceTree {
    /// The repository root (the folder holding Package.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Plugins/` of the source tree, if it still exists.
    static var pluginsFolders: [String] {
        let p = root.appendingPathComponent("Plugins").path
        return FileManager.default.fileExists(atPath: p) ? [p] : []
    }
}
