import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// A plugin built outside this repository — its own package depending on TemperKit and
/// TemperTestSupport by path — passes its own test (which loads its library by file, as CONTRIBUTING
/// shows) and loads into this process and core. Slow the first time (it builds TemperKit for that
/// package); the package lives in the scratch folder, so later runs rebuild incrementally.
final class OutOfTreePluginTests: XCTestCase {
    func testOutOfTreePackageBuildsPassesItsTestAndLoads() throws {
        let scratch = URL(fileURLWithPath: TestPlugins.buildFolder).deletingLastPathComponent().deletingLastPathComponent()
        let package = scratch.appendingPathComponent("out-of-tree-plugin")
        let fm = FileManager.default
        for folder in ["Sources/OutOfTree", "Tests/OutOfTreeTests"] {
            try fm.createDirectory(at: package.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try write("""
            // swift-tools-version: 6.0
            import PackageDescription

            let package = Package(
                name: "OutOfTree",
                products: [.library(name: "OutOfTreePlugin", type: .dynamic, targets: ["OutOfTree"])],
                dependencies: [.package(path: "\(TemperRepository.root.appendingPathComponent("TemperKit").path)"),
                               .package(path: "\(TemperRepository.root.appendingPathComponent("TemperTestSupport").path)")],
                targets: [
                    .target(name: "OutOfTree", dependencies: [.product(name: "TemperKit", package: "TemperKit")]),
                    .testTarget(name: "OutOfTreeTests", dependencies: [.product(name: "TemperKit", package: "TemperKit"),
                                                                       .product(name: "TemperTestSupport", package: "TemperTestSupport")]),
                ],
                swiftLanguageModes: [.v5]
            )
            """, to: package.appendingPathComponent("Package.swift"))
        // The same Yams pin as this checkout, so resolution needs no network when the cache has it.
        let pins = ["TemperKit/Package.resolved", "Package.resolved"].map { TemperRepository.root.appendingPathComponent($0) }
        if let pin = pins.first(where: { fm.fileExists(atPath: $0.path) }),
           !fm.fileExists(atPath: package.appendingPathComponent("Package.resolved").path) {
            try fm.copyItem(at: pin, to: package.appendingPathComponent("Package.resolved"))
        }
        // The plugin's source names the ABI it is built against: SwiftPM does not recompile a module
        // when only TemperABI's inlined hash changed, and a stale hash would (rightly) be refused.
        try write("""
            // Built against TemperABI v\(TemperABI.version), interface \(TemperABI.interfaceHash).
            import TemperCore

            /// Scores the number of words in a completion; exists to prove out-of-tree loading.
            public struct WordCount: RewardFunction {
                public static let name = "out-of-tree-word-count"
                public static let summary = "number of words in the completion"
                public static let parameters: [ParameterSpec] = [.float("scale", default: 1, doc: "factor")]
                let scale: Float
                public init(config: ComponentConfig) throws { scale = try config.float("scale") }
                public func score(_ batch: RewardBatch) throws -> [Float?] {
                    batch.completions.map { Float($0.split(separator: " ").count) * scale }
                }
            }

            @_cdecl("temper_plugin_entry")
            public func temperPluginEntry(_ abi: UInt32, _ hash: UnsafePointer<CChar>?, _ reply: UnsafeMutableRawPointer?) -> Int32 {
                TemperPlugin.register(abi, hash, reply) { r in r.add(WordCount.self) }
            }
            """, to: package.appendingPathComponent("Sources/OutOfTree/Plugin.swift"))
        try write("""
            import TemperCore
            import TemperTestSupport
            import XCTest

            final class WordCountTests: XCTestCase {
                func testScoresWordsLoadedFromTheBuiltLibrary() throws {
                    TestPlugins.loadLibrary(at: TestPlugins.buildFolder + "/libOutOfTreePlugin.so")
                    let reward = try ComponentRegistry.shared.reward("out-of-tree-word-count:scale=2").reward
                    assertClose(try reward.score(RewardBatch(prompts: ["q", "q"], completions: ["three little words", ""])), [6, 0])
                }
            }
            """, to: package.appendingPathComponent("Tests/OutOfTreeTests/WordCountTests.swift"))

        let swift = try XCTUnwrap(["/usr/bin/swift", "/opt/swift/usr/bin/swift"].first { fm.isExecutableFile(atPath: $0) })
        let location = ["--package-path", package.path, "--scratch-path", package.appendingPathComponent(".build").path]
        let build = try TestSupport.run(swift, ["build", "--build-tests"] + location)
        XCTAssertEqual(build.status, 0, "swift build failed:\n\(build.out)\n\(build.err)")
        let test = try TestSupport.run(swift, ["test", "--skip-build"] + location)
        XCTAssertEqual(test.status, 0, "the package's own test failed:\n\(test.out)\n\(test.err)")
        XCTAssertTrue((test.out + test.err).contains("Executed 1 test, with 0 failures"), test.out + test.err)

        let library = package.appendingPathComponent(".build/debug/libOutOfTreePlugin.so").path
        TestPlugins.loadLibrary(at: library)
        let descriptor = try XCTUnwrap(ComponentRegistry.shared.descriptor(named: "out-of-tree-word-count"))
        XCTAssertEqual(descriptor.library, library)
        let reward = try ComponentRegistry.shared.reward("out-of-tree-word-count:scale=2").reward
        XCTAssertEqual(try reward.score(RewardBatch(prompts: ["q"], completions: ["three little words"])), [6])
        // The plugin's NEEDED libTemperKit.so resolved to the copy already in the process.
        let maps = String(decoding: try XCTUnwrap(FileHandle(forReadingAtPath: "/proc/self/maps")).readDataToEndOfFile(), as: UTF8.self)
        let kits = Set(maps.split(separator: "\n").compactMap { $0.split(separator: " ").last }.filter { $0.hasSuffix("/libTemperKit.so") })
        XCTAssertEqual(kits.count, 1, "\(kits)")
    }

    private func write(_ text: String, to url: URL) throws {
        // Rewriting identical text would bump the mtime and force a rebuild of the package.
        if let old = try? String(contentsOf: url, encoding: .utf8), old == text { return }
        try text.write(to: url, atomically: true, encoding: .utf8)
    }
}
