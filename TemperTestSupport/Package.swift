// swift-tools-version: 6.0
// TemperTestSupport: the helpers that Temper's app tests, every plugin's tests, the tests that
// `temper new` generates and out-of-tree plugin packages share — a gradient checker,
// `assertClose`, toy models, a scripted language model, plugin loading and temporary folders.
//
// Why a package of its own, depending on TemperKit's *product*: SwiftPM links a target of the
// same package statically into every product that uses it. A TemperTestSupport target inside
// TemperKit's package that depends on the TemperCore target puts TemperCore's objects into the
// test binary beside its `NEEDED libTemperKit.so` (measured with SwiftPM 6.3: the registry's
// accessor is defined in the test binary) — two registries, and every cast across the plugin
// boundary silently false. Depending on the `TemperKit` product of another package links
// libTemperKit.so dynamically, so a test process maps one copy shared with the plugins it
// loads. An out-of-tree plugin depends on this package by path, as on TemperKit's.
//
// TemperKit's own tests cannot use it (they link the targets they test statically); they share
// the gradient checker's core, `GradientCheck` in TemperTensor. This package's own tests are in
// the app package (Tests/TemperTestSupportTests), where they reuse the app's build.
import PackageDescription

let package = Package(
    name: "TemperTestSupport",
    products: [
        .library(name: "TemperTestSupport", targets: ["TemperTestSupport"]),
    ],
    dependencies: [
        .package(path: "../TemperKit"),
    ],
    targets: [
        .target(name: "TemperTestSupport", dependencies: [.product(name: "TemperKit", package: "TemperKit")]),
    ],
    swiftLanguageModes: [.v5]
)
