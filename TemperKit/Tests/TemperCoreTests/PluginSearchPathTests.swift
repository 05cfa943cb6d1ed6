import Foundation
import TemperCore
import XCTest

/// A `TEMPER_PLUGIN_PATH` folder that is a package's build folder holds `libTemperKit.so`, the
/// host itself: it is skipped without a warning, while other libraries still get theirs.
final class PluginSearchPathTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("plugin-path-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Not ELF: a file the loader opened would be refused as "not an ELF shared library".
        for name in ["libTemperKit.so", "libNotAPlugin.so"] {
            try Data("text".utf8).write(to: folder.appendingPathComponent(name))
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func testBuildFolderSkipsTheHostLibraryQuietly() {
        let report = PluginLoader.shared.load(PluginSearchPath.standard(environment: ["TEMPER_PLUGIN_PATH": folder.path]))
        let here = report.diagnostics.filter { $0.file.hasPrefix(folder.path) }
        XCTAssertEqual(here, [PluginDiagnostic(file: folder.appendingPathComponent("libNotAPlugin.so").path, reason: "not an ELF shared library")])
        XCTAssertFalse(report.loaded.contains { $0.hasPrefix(folder.path) })
    }

    func testNamingTheHostLibraryExplicitlyIsAnError() {
        let file = folder.appendingPathComponent("libTemperKit.so").path
        let report = PluginLoader.shared.load(file: file)
        XCTAssertEqual(report.diagnostics, [PluginDiagnostic(file: file, reason: "not a plugin: libTemperKit.so is the host library itself (pass the plugin's own library)")])
    }

    /// A folder reached through a link (SwiftPM's `.build/release`) lists each library once, under
    /// the path as given, however many links lead to it.
    func testLinkedFoldersListEachLibraryOnce() throws {
        let link = folder.appendingPathExtension("link")
        // Relative, as SwiftPM makes it: Foundation's resolvingSymlinksInPath kept such a link.
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: folder.lastPathComponent)
        defer { try? FileManager.default.removeItem(at: link) }
        let report = PluginLoader.shared.load(PluginSearchPath(pluginFolders: [link.path, folder.path]))
        XCTAssertEqual(report.diagnostics, [PluginDiagnostic(file: link.appendingPathComponent("libNotAPlugin.so").path, reason: "not an ELF shared library")])
    }
}
