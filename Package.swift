// swift-tools-version: 6.0
// The Temper app: the `temper` command line, the benchmarks, and every plugin under Plugins/.
// Each folder in Plugins/ becomes its own `.dynamic` library product, found here by the manifest
// itself; `temper` never links a plugin, it loads them at run time with dlopen.
import Foundation
import PackageDescription

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
let pluginsDir = root.appendingPathComponent("Plugins")
let pluginFolders: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: pluginsDir.path)) ?? [])
    .filter { name in
        var isDir: ObjCBool = false
        let path = pluginsDir.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else { return false }
        // A folder with a manifest.json and no Swift sources is a C plugin built by its own Makefile.
        let files = (try? FileManager.default.subpathsOfDirectory(atPath: path)) ?? []
        return files.contains { $0.hasSuffix(".swift") && !$0.hasPrefix("Tests/") }
    }
    .sorted()

let kit = Target.Dependency.product(name: "TemperKit", package: "TemperKit")

let pluginTargets: [Target] = pluginFolders.map { folder in
    .target(name: folder, dependencies: [kit], path: "Plugins/\(folder)", exclude: ["Tests"].filter {
        FileManager.default.fileExists(atPath: pluginsDir.appendingPathComponent(folder).appendingPathComponent($0).path)
    })
}
let pluginTestTargets: [Target] = pluginFolders.compactMap { folder in
    let tests = pluginsDir.appendingPathComponent(folder).appendingPathComponent("Tests")
    guard FileManager.default.fileExists(atPath: tests.path) else { return nil }
    return .testTarget(name: "\(folder)Tests", dependencies: [.target(name: folder), kit], path: "Plugins/\(folder)/Tests")
}

let package = Package(
    name: "Temper",
    products: [
        .executable(name: "temper", targets: ["temper"]),
        .executable(name: "temper-bench", targets: ["temper-bench"]),
    ] + pluginFolders.map { .library(name: "TemperPlugin\($0)", type: .dynamic, targets: [$0]) },
    dependencies: [
        .package(path: "TemperKit"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .executableTarget(name: "temper", dependencies: [kit, .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "temper-bench", dependencies: [kit, .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "TemperAppTests", dependencies: [kit], path: "Tests/TemperAppTests"),
    ] + pluginTargets + pluginTestTargets,
    swiftLanguageModes: [.v5]
)
