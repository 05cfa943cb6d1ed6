import Foundation
import TemperTestSupport
import XCTest

/// `swift run temper` builds only the executable: a `temper` whose build folder holds no plugin
/// library must say what to build, not just that no objective is loaded (issue 9: the README's first
/// command failed that way on a fresh clone).
final class UnbuiltPluginsTests: XCTestCase {
    func testTemperWithoutPluginLibrariesSaysWhatToBuild() throws {
        let release = try makeTemporaryFolder("unbuilt").appendingPathComponent(".build/release")
        try FileManager.default.createDirectory(at: release, withIntermediateDirectories: true)
        for file in ["temper", "libTemperKit.so"] {
            try FileManager.default.copyItem(atPath: TestPlugins.buildFolder + "/" + file, toPath: release.appendingPathComponent(file).path)
        }
        let temper = release.appendingPathComponent("temper").path
        let r = try TestSupport.run(temper, ["quickstart", "--max_steps", "1", "--output_dir", release.appendingPathComponent("q").path],
                                    environment: [:])
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("warning: no plugin libraries beside \(temper): `swift run` builds only the temper executable"), r.err)
        XCTAssertTrue(r.err.contains("Build them all with `swift build -c release` (in \(TemperRepository.root.path))"), r.err)
        XCTAssertTrue(r.err.contains("unknown objective 'sft'. No objectives are loaded."), r.err)

        // Beside the built plugins the hint never appears.
        let built = try TestSupport.run(TestPlugins.buildFolder + "/temper", ["plugins"], environment: [:])
        XCTAssertEqual(built.status, 0, built.err)
        XCTAssertFalse(built.err.contains("no plugin libraries"), built.err)
    }
}
