import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The built `temper` executable, run as a user would.
final class CommandLineTests: XCTestCase {
    private var temper: String { TestPlugins.buildFolder + "/temper" }

    private func run(_ arguments: [String], environment: [String: String] = [:], in directory: URL? = nil) throws -> (status: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment
        env["TEMPER_PLUGIN_PATH"] = nil
        for (k, v) in environment { env[k] = v }
        return try TestSupport.run(temper, arguments, in: directory, environment: env)
    }

    func testVersion() throws {
        let r = try run(["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.out.trimmingCharacters(in: .whitespacesAndNewlines), TemperVersion.string)
    }

    func testPluginsListsEveryBuiltComponent() throws {
        let r = try run(["plugins"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.err, "")
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init), ["NAME", "KIND", "LIBRARY", "SUMMARY"])
        let rows = Dictionary(lines.dropFirst().map { line -> (String, [String]) in
            let cells = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            return (cells[0], cells)
        }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(rows["sgd"]?[1...2], ["optimizer", "libTemperPluginOptimizers.so"])
        XCTAssertEqual(rows["adamw"]?[1...2], ["optimizer", "libTemperPluginOptimizers.so"])
        XCTAssertEqual(rows["exact-match"]?[1...2], ["reward", "libTemperPluginRewards.so"])
        XCTAssertEqual(rows["c-exact-match"]?[1...2], ["reward", "libTemperPluginCExactMatch.so"])
    }

    func testPluginsFiltersByKindAndRejectsUnknownKinds() throws {
        let r = try run(["plugins", "--kind", "reward"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("exact-match"))
        XCTAssertFalse(r.out.contains("adamw"))
        let bad = try run(["plugins", "--kind", "rewards"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("rewards"), bad.err)
    }

    func testShowPrintsParametersAndSuggestsOnTypos() throws {
        let r = try run(["plugins", "show", "sgd"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.hasPrefix("sgd (optimizer) from "), r.out)
        let momentum = try XCTUnwrap(r.out.split(separator: "\n").first { $0.hasPrefix("momentum") })
        XCTAssertEqual(momentum.split(separator: " ", omittingEmptySubsequences: true).prefix(4), ["momentum", "float", "0.0", "[0,"])
        XCTAssertTrue(r.out.contains("lr, learning_rate"), r.out)
        let typo = try run(["plugins", "show", "adamx"])
        XCTAssertNotEqual(typo.status, 0)
        XCTAssertTrue(typo.err.contains("unknown component 'adamx'. Did you mean 'adam'?"), typo.err)
    }

    func testBadPluginsAreWarningsAndTheRestStillLists() throws {
        let dir = try makeTemporaryFolder("cli-bad")
        try "nope".write(to: dir.appendingPathComponent("broken.so"), atomically: true, encoding: .utf8)
        let r = try run(["plugins", "--plugin", dir.appendingPathComponent("broken.so").path])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.err, "warning: plugin \(dir.appendingPathComponent("broken.so").path): not an ELF shared library\n")
        XCTAssertTrue(r.out.contains("adamw"))
        let env = try run(["plugins"], environment: ["TEMPER_PLUGIN_PATH": dir.path])
        XCTAssertTrue(env.err.contains("broken.so: not an ELF shared library"), env.err)
    }

    func testNewScaffoldsRefusesOverwriteAndBadNames() throws {
        let root = try makeTemporaryFolder("cli-new")
        try FileManager.default.copyItem(at: TemperRepository.root.appendingPathComponent("templates"), to: root.appendingPathComponent("templates"))
        try "// Plugin folders: \n".write(to: root.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
        let r = try run(["new", "reward", "LengthBonus"], in: root)
        XCTAssertEqual(r.status, 0, r.err)
        let source = try String(contentsOf: root.appendingPathComponent("Plugins/LengthBonus/LengthBonus.swift"), encoding: .utf8)
        XCTAssertTrue(source.contains("public struct LengthBonus: RewardFunction"))
        XCTAssertTrue(source.contains("\"length-bonus\""))
        XCTAssertFalse(source.contains("__"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("Plugins/LengthBonus/Tests/LengthBonusTests.swift").path))
        XCTAssertEqual(try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8), "// Plugin folders: LengthBonus\n")

        let again = try run(["new", "reward", "LengthBonus"], in: root)
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.err.contains("already exists; refusing to overwrite it"), again.err)
        let bad = try run(["new", "reward", "length-bonus"], in: root)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("'length-bonus' is not an identifier"), bad.err)
        let taken = try run(["new", "peft", "MyLoRA", "--name", "lora"], in: root)
        XCTAssertNotEqual(taken.status, 0)
        XCTAssertTrue(taken.err.contains("Error: 'lora' is already registered (a peft in libTemperPluginPEFT.so); choose another name with --name"), taken.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("Plugins/MyLoRA").path))
    }

    func testEveryTemplateKindExists() {
        for kind in PluginScaffold.kinds {
            let folder = TemperRepository.root.appendingPathComponent("templates/\(kind)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("Tests").path), kind)
        }
    }
}
