import Foundation
import TemperCore
import XCTest

final class PluginScaffoldTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("scaffold-\(UUID().uuidString)")
        let template = root.appendingPathComponent("templates/reward")
        try FileManager.default.createDirectory(at: template.appendingPathComponent("Tests"), withIntermediateDirectories: true)
        try "struct __Name__ { let n = \"__component__\"; let c = \"__symbol__\" }".write(
            to: template.appendingPathComponent("__Name__.swift"), atomically: true, encoding: .utf8)
        try "final class __Name__Tests {}".write(to: template.appendingPathComponent("Tests/__Name__Tests.swift"), atomically: true, encoding: .utf8)
        try "// Plugin folders: Old\nlet x = 1\n".write(to: root.appendingPathComponent("Package.swift"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    private func create(_ kind: String, _ name: String, component: String? = nil) throws -> [URL] {
        try PluginScaffold.create(kind: kind, name: name, component: component, templatesFolder: root.appendingPathComponent("templates"),
                                  pluginsFolder: root.appendingPathComponent("Plugins"))
    }

    func testCopiesTemplateWithNamesFilledIn() throws {
        let files = try create("reward", "MyReward")
        XCTAssertEqual(files.map { $0.path.replacingOccurrences(of: root.path + "/", with: "") }.sorted(),
                       ["Plugins/MyReward/MyReward.swift", "Plugins/MyReward/Tests/MyRewardTests.swift"])
        XCTAssertEqual(try String(contentsOf: files.first { $0.lastPathComponent == "MyReward.swift" }!, encoding: .utf8),
                       "struct MyReward { let n = \"my-reward\"; let c = \"my_reward\" }")
        XCTAssertTrue(try PluginScaffold.refreshManifestStamp(packageFile: root.appendingPathComponent("Package.swift"),
                                                              pluginsFolder: root.appendingPathComponent("Plugins")))
        XCTAssertEqual(try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8),
                       "// Plugin folders: MyReward\nlet x = 1\n")
    }

    func testChosenRegisteredNameFillsComponentAndSymbols() throws {
        try "__component__ __symbol__ __SYMBOL__".write(to: root.appendingPathComponent("templates/reward/names.txt"), atomically: true, encoding: .utf8)
        let files = try create("reward", "RAdam", component: "radam-lite")
        XCTAssertEqual(try String(contentsOf: try XCTUnwrap(files.first { $0.lastPathComponent == "names.txt" }), encoding: .utf8),
                       "radam-lite radam_lite RADAM_LITE")
        for bad in ["RAdam", "r_adam", "-radam", "radam-", "r--adam", "2radam", "", "radäm"] {
            XCTAssertThrowsError(try create("reward", "Other", component: bad), bad) { e in
                XCTAssertEqual("\(e)", "registered name '\(bad)' must be lower-case letters and digits in words joined by '-', starting with a letter (e.g. my-reward)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("Plugins/Other").path))
    }

    func testRefusesOverwriteBadNamesAndKinds() throws {
        _ = try create("reward", "MyReward")
        XCTAssertThrowsError(try create("reward", "MyReward")) { e in
            XCTAssertEqual("\(e)", "\(self.root.appendingPathComponent("Plugins/MyReward").path) already exists; refusing to overwrite it")
        }
        for bad in ["my-reward", "1Reward", "", "Re ward", "Tests", "Ünï"] {
            XCTAssertThrowsError(try create("reward", bad), bad) { e in
                XCTAssertTrue("\(e)".contains("'\(bad)'"), "\(e)")
            }
        }
        XCTAssertThrowsError(try create("rewrd", "Fine")) { e in
            XCTAssertEqual("\(e)", "unknown template kind 'rewrd'. Did you mean 'reward'? Kinds: optimizer, peft, reward, search, objective, c-reward")
        }
        XCTAssertThrowsError(try create("search", "Fine")) { e in XCTAssertTrue("\(e)".hasSuffix("templates/search does not exist")) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("Plugins/Fine").path))
    }

    func testNameConversions() {
        XCTAssertEqual(PluginScaffold.componentName(for: "MyReward"), "my-reward")
        XCTAssertEqual(PluginScaffold.componentName(for: "HTTPScore"), "http-score")
        XCTAssertEqual(PluginScaffold.componentName(for: "BestOfN"), "best-of-n")
        XCTAssertEqual(PluginScaffold.componentName(for: "RAdam"), "r-adam")
        XCTAssertEqual(PluginScaffold.componentName(for: "Lion"), "lion")
    }
}
