// swift-tools-version: 6.0
// TemperMPI: the Open MPI side of Temper's `Communicator`, a small C library (libTemperMPI.so)
// that `temper` dlopens only when it runs under `mpirun`. It is a package of its own, built by
// scripts/build-mpi.sh after Open MPI is installed: SwiftPM only warns when a system library's
// pkg-config file is missing and then fails compiling against <mpi.h>, so inside the app package
// it would break `swift build` for everyone without libopenmpi-dev. It depends on nothing of
// Temper's (a flat C ABI), so it builds in seconds and cannot duplicate libTemperKit.so.
import PackageDescription

let package = Package(
    name: "TemperMPI",
    products: [
        .library(name: "TemperMPI", type: .dynamic, targets: ["TemperMPI"]),
    ],
    targets: [
        .systemLibrary(name: "COpenMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "TemperMPI", dependencies: ["COpenMPI"]),
    ]
)
