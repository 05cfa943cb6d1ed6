import Foundation
import TemperCore
import TemperTestSupport
import XCTest

final class TestPluginsTests: FailureCapturingTestCase {
    func testLoadsTheBuiltPluginsAndNamesWhatIsMissing() {
        XCTAssertEqual(failures { TestPlugins.loadBuilt(requiring: ["exact-match", "c-exact-match"]) }, [])
        XCTAssertEqual(ComponentRegistry.shared.descriptor(named: "exact-match")?.library,
                       TestPlugins.buildFolder + "/libTemperPluginRewards.so")
        let messages = failures { TestPlugins.loadBuilt(requiring: ["exact-match", "no-such-reward"]) }
        XCTAssertEqual(messages, ["failed - no-such-reward not registered after loading the plugins in \(TestPlugins.buildFolder) (no diagnostics)"])
    }

    func testLoadingALibraryByPathFailsWithTheLoadersDiagnostic() throws {
        let folder = try makeTemporaryFolder("not-a-plugin")
        let file = folder.appendingPathComponent("libNotAPlugin.so").path
        try "text".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(failures { TestPlugins.loadLibrary(at: file) }, ["failed - plugin \(file): not an ELF shared library"])
        let built = TestPlugins.buildFolder + "/libTemperPluginObjectives.so"
        XCTAssertEqual(failures { TestPlugins.loadLibrary(at: built) }, [])
        XCTAssertNotNil(ComponentRegistry.shared.descriptor(named: "sft"))
    }

    func testTemporaryFolderIsEmptyAndRemovedWhenTheTestEnds() throws {
        var made: URL?
        // Teardown blocks run last-registered first, so this one runs after the folder's own.
        addTeardownBlock { XCTAssertFalse(FileManager.default.fileExists(atPath: made?.path ?? "/"), "left behind: \(made?.path ?? "nil")") }
        let folder = try makeTemporaryFolder("probe")
        made = folder
        XCTAssertTrue(folder.lastPathComponent.hasPrefix("temper-probe-"), folder.path)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
        try "x".write(to: folder.appendingPathComponent("inside"), atomically: true, encoding: .utf8)
    }
}
