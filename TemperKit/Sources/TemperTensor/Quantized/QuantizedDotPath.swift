import CTemperSupport
import Foundation

/// The code paths of the integer block products (weights in any `QuantFormat` against int8
/// activations, CTemperSupport/QuantizedDot.c): portable C, AVX2 (`maddubs`) or
/// AVX-512 VNNI (`dpbusd` on 256-bit lanes). All three form the same exact integer sums per block,
/// so they agree to the rounding of the float accumulation. The CPU is asked once; `TEMPER_KERNELS=avx2` pins the AVX2 path as it
/// pins the AVX2 GEMM tile.
public enum QuantizedDotPath: String, CaseIterable, Sendable {
    case portable, avx2, vnni

    var code: Int32 {
        switch self {
        case .portable: return TEMPER_QPATH_SCALAR
        case .avx2: return TEMPER_QPATH_AVX2
        case .vnni: return TEMPER_QPATH_VNNI
        }
    }

    /// The paths this CPU runs, the reference first.
    public static let supported: [QuantizedDotPath] = {
        #if arch(x86_64)
        return temper_avx512vnni_supported() != 0 ? [.portable, .avx2, .vnni] : [.portable, .avx2]
        #else
        return [.portable]
        #endif
    }()

    /// The path the products use now: the widest, unless `TEMPER_KERNELS=avx2` asks for the AVX2 one.
    public internal(set) nonisolated(unsafe) static var active: QuantizedDotPath = {
        let widest = supported.last ?? .portable
        if ProcessInfo.processInfo.environment["TEMPER_KERNELS"]?.lowercased() == "avx2", supported.contains(.avx2) { return .avx2 }
        return widest
    }()

    /// Runs `body` with `path` active, then restores the previous one (tests and benchmarks compare
    /// the paths in one process). Call it while no product is running.
    public static func using<R>(_ path: QuantizedDotPath, _ body: () throws -> R) rethrows -> R {
        precondition(supported.contains(path), "QuantizedDotPath.using: this CPU does not run \(path.rawValue)")
        let saved = active
        active = path
        defer { active = saved }
        return try body()
    }
}
