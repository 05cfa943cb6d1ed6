// swift-tools-version: 6.0
// TemperKit: the tensor runtime, the models and the host, built as ONE shared library
// (libTemperKit.so) that the `temper` executable and every plugin link dynamically, so the process
// maps one copy of each type and one registry. See ../DESIGN notes in README.md.
import PackageDescription

// The GEMM microkernel is written with SIMD8<Float>; without these flags Swift lowers FMA to
// scalar libm calls (100× slower). CTemperSupport is compiled WITHOUT them: its load-time check
// refuses a CPU lacking AVX2/FMA with a message instead of a SIGILL; its AVX-512 GEMM tile is
// compiled for AVX-512 per function (a target attribute) and runs only where the CPU has it.
#if arch(x86_64)
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma", "-Xcc", "-mf16c"])]
#else
let simdFlags: [SwiftSetting] = []
#endif

let package = Package(
    name: "TemperKit",
    products: [
        .library(name: "TemperKit", type: .dynamic, targets: ["TemperTensor", "TemperModels", "TemperCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        .target(name: "CTemperSupport"),
        .systemLibrary(name: "CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
        .target(name: "TemperTensor", dependencies: ["CTemperSupport"], swiftSettings: simdFlags),
        .target(name: "TemperModels", dependencies: ["TemperTensor"], swiftSettings: simdFlags),
        .target(name: "TemperCore", dependencies: ["TemperModels", "CFFI", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "TemperTensorTests", dependencies: ["TemperTensor"]),
        .testTarget(name: "TemperModelsTests", dependencies: ["TemperModels"]),
        .testTarget(name: "TemperCoreTests", dependencies: ["TemperCore"]),
    ],
    swiftLanguageModes: [.v5]
)
