// swift-tools-version: 6.0
// The Temper app: the `temper` command line, the benchmarks, and every plugin under Plugins/.
// Each folder in Plugins/ becomes its own `.dynamic` library product, found here by the manifest
// itself; `temper` never links a plugin, it loads them at run time with dlopen.
//
// - A folder with Swift sources is a Swift plugin: target <Folder>, product TemperPlugin<Folder>
//   (libTemperPlugin<Folder>.so) linking TemperKit dynamically; Plugins/<Folder>/Tests becomes the
//   test target <Folder>Tests, which loads the built library through the plugin loader.
// - A folder with C sources and a temper-plugin.json manifest is a C plugin: a C target and the
//   same kind of product; the host finds the manifest in Plugins/<Folder>/ at run time (see
//   CONTRIBUTING.md, "C plugins").
//
// SwiftPM caches a manifest's evaluation by its text, not by the folders it lists, so the line
// below names the plugin folders: `temper new` rewrites it, and a folder added by hand needs it
// edited (or one `swift build --manifest-cache none`) before SwiftPM sees the new plugin.
// Plugin folders: CExactMatch, Objectives, Optimizers, PEFT, Rewards, Search
import Foundation
import PackageDescription

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let pluginsDir = root.appendingPathComponent("Plugins")
let fm = FileManager.default

func sourceFiles(_ folder: String) -> [String] {
    ((try? fm.subpathsOfDirectory(atPath: pluginsDir.appendingPathComponent(folder).path)) ?? [])
        .filter { !$0.hasPrefix("Tests/") }
}
func exists(_ folder: String, _ item: String) -> Bool {
    fm.fileExists(atPath: pluginsDir.appendingPathComponent(folder).appendingPathComponent(item).path)
}

let allFolders: [String] = ((try? fm.contentsOfDirectory(atPath: pluginsDir.path)) ?? []).filter { name in
    var isDir: ObjCBool = false
    return fm.fileExists(atPath: pluginsDir.appendingPathComponent(name).path, isDirectory: &isDir) && isDir.boolValue
}.sorted()
let swiftPlugins = allFolders.filter { sourceFiles($0).contains { $0.hasSuffix(".swift") } }
let cPlugins = allFolders.filter { folder in
    !swiftPlugins.contains(folder) && exists(folder, "temper-plugin.json") && sourceFiles(folder).contains { $0.hasSuffix(".c") }
}

let kit = Target.Dependency.product(name: "TemperKit", package: "TemperKit")
// Every test target also gets the shared test helpers (a package of its own: see
// TemperTestSupport/Package.swift for why it is not a target of this package or of TemperKit's).
let testSupport = Target.Dependency.product(name: "TemperTestSupport", package: "TemperTestSupport")

// Same SIMD flags as TemperKit, so SIMD8<Float> arithmetic in plugins lowers to AVX2/FMA.
#if arch(x86_64)
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"])]
#else
let simdFlags: [SwiftSetting] = []
#endif

let pluginTargets: [Target] = swiftPlugins.map { folder in
    .target(name: folder, dependencies: [kit], path: "Plugins/\(folder)",
            exclude: ["Tests"].filter { exists(folder, $0) }, swiftSettings: simdFlags)
} + cPlugins.map { folder in
    .target(name: folder, path: "Plugins/\(folder)",
            exclude: ["Tests", "temper-plugin.json"].filter { exists(folder, $0) },
            publicHeadersPath: ".",
            cSettings: [.unsafeFlags(["-O2"])])
}
// Plugin tests depend on TemperKit and TemperTestSupport only: they load the plugin's built library
// through the loader, exactly as `temper` does, instead of linking a second copy of the plugin into
// the test binary.
let pluginTestTargets: [Target] = (swiftPlugins + cPlugins).compactMap { folder in
    guard exists(folder, "Tests") else { return nil }
    return .testTarget(name: "\(folder)Tests", dependencies: [kit, testSupport], path: "Plugins/\(folder)/Tests")
}

let package = Package(
    name: "Temper",
    products: [
        .executable(name: "temper", targets: ["temper"]),
        .executable(name: "temper-bench", targets: ["temper-bench"]),
        .executable(name: "temper-fuzz", targets: ["temper-fuzz"]),
    ] + (swiftPlugins + cPlugins).map { .library(name: "TemperPlugin\($0)", type: .dynamic, targets: [$0]) },
    dependencies: [
        .package(path: "TemperKit"),
        .package(path: "TemperTestSupport"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(name: "temper", dependencies: [kit, .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "temper-bench", dependencies: [kit, .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The parsers' mutation fuzzer (scripts/fuzz.sh); it runs its inputs in child processes of itself.
        .executableTarget(name: "temper-fuzz", dependencies: [kit]),
        .testTarget(name: "TemperAppTests", dependencies: [kit, testSupport], path: "Tests/TemperAppTests"),
        // TemperTestSupport's own tests: here rather than in its package, to reuse this build.
        .testTarget(name: "TemperTestSupportTests", dependencies: [kit, testSupport], path: "Tests/TemperTestSupportTests"),
    ] + pluginTargets + pluginTestTargets,
    swiftLanguageModes: [.v5]
)
