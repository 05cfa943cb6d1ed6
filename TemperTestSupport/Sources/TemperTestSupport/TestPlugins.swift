import Foundation
import TemperCore
import XCTest

/// Loading plugins in tests the way `temper` loads them: through `PluginLoader`, from built
/// libraries, never by linking a plugin into the test binary (a second copy of its types would
/// make the test prove nothing about loading).
///
/// Call these from a test or from instance `setUp()`, not from `class func setUp()`: XCTest on
/// Linux drops failures recorded outside a test, so a missing plugin would go unreported there.
public enum TestPlugins {
    /// The folder of the running test binary: SwiftPM's build folder, where the plugin libraries
    /// of the package under test are built.
    public static var buildFolder: String {
        PluginSearchPath.executableDirectory() ?? (CommandLine.arguments[0] as NSString).deletingLastPathComponent
    }

    /// Loads every `libTemperPlugin*.so` in the build folder, as `temper` does from its own folder
    /// (C plugins find their manifests in Temper's `Plugins/`), and fails the current test if any
    /// of `components` is not registered afterwards, quoting the loader's diagnostics.
    /// Loading again is cheap: files already loaded are skipped.
    @discardableResult
    public static func loadBuilt(requiring components: [String] = [], file: StaticString = #filePath, line: UInt = #line) -> PluginLoadReport {
        let report = PluginLoader.shared.load(.standard(environment: [:], sourcePluginFolders: [TemperRepository.plugins.path]))
        let missing = components.filter { ComponentRegistry.shared.descriptor(named: $0) == nil }
        if !missing.isEmpty {
            let why = report.diagnostics.isEmpty ? "no diagnostics" : report.diagnostics.map(\.description).joined(separator: "; ")
            XCTFail("\(missing.joined(separator: ", ")) not registered after loading the plugins in \(buildFolder) (\(why))",
                    file: file, line: line)
        }
        return report
    }

    /// Loads one library or C manifest by path with `PluginLoader.load(file:)` — how an
    /// out-of-tree plugin's test loads the library its package built — and fails the current test
    /// with the loader's diagnostic if it is refused.
    @discardableResult
    public static func loadLibrary(at path: String, file: StaticString = #filePath, line: UInt = #line) -> PluginLoadReport {
        let report = PluginLoader.shared.load(file: path)
        for diagnostic in report.diagnostics { XCTFail(diagnostic.description, file: file, line: line) }
        return report
    }
}
