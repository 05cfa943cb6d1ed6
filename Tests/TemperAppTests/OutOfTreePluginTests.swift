import Foundation
import TemperCore
import XCTest

/// A plugin built outside this repository — its own package depending on TemperKit by path —
/// loads into the same process and core. Slow the first time (it builds TemperKit for that
/// package); the package lives in the scratch folder, so later runs rebuild incrementally.
final class OutOfTreePluginTests: XCTestCase {
    func testOutOfTreePackageBuildsAndLoads() throws {
        let scratch = URL(fileURLWithPath: TestSupport.buildFolder).deletingLastPathComponent().deletingLastPathComponent()
        let package = scratch.appendingPathComponent("out-of-tree-plugin")
        let fm = FileManager.default
        try fm.createDirectory(at: package.appendingPathComponent("Sources/OutOfTree"), withIntermediateDirectories: true)
        let kit = TestSupport.repositoryRoot.appendingPathComponent("TemperKit").path
        try write("""
            // swift-tools-version: 6.0
            import PackageDescription

            let package = Package(
                name: "OutOfTree",
                products: [.library(name: "OutOfTreePlugin", type: .dynamic, targets: ["OutOfTree"])],
                dependencies: [.package(path: "\(kit)")],
                targets: [.target(name: "OutOfTree", dependencies: [.product(name: "TemperKit", package: "TemperKit")])],
                swiftLanguageModes: [.v5]
            )
            """, to: package.appendingPathComponent("Package.swift"))
        // Same Yams pin as TemperKit, so resolution needs no network when the cache has it.
        let pins = TestSupport.repositoryRoot.appendingPathComponent("TemperKit/Package.resolved")
        if fm.fileExists(atPath: pins.path), !fm.fileExists(atPath: package.appendingPathComponent("Package.resolved").path) {
            try fm.copyItem(at: pins, to: package.appendingPathComponent("Package.resolved"))
        }
        try write("""
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

        // Always recompile the plugin's own module (one file): SwiftPM does not recompile it when
        // only TemperABI's inlined hash changed, and a stale hash would (rightly) be refused.
        try? fm.removeItem(at: package.appendingPathComponent(".build/debug/OutOfTree.build"))
        let swift = try XCTUnwrap(["/usr/bin/swift", "/opt/swift/usr/bin/swift"].first { fm.isExecutableFile(atPath: $0) })
        let build = try TestSupport.run(swift, ["build", "--package-path", package.path, "--scratch-path", package.appendingPathComponent(".build").path])
        XCTAssertEqual(build.status, 0, "swift build failed:\n\(build.out)\n\(build.err)")
        let library = package.appendingPathComponent(".build/debug/libOutOfTreePlugin.so").path

        let report = PluginLoader.shared.load(file: library)
        XCTAssertEqual(report.diagnostics, [])
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
