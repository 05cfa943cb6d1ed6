import CTemperSupport
import Foundation

/// The register-tile kernels the packed GEMM can run, and the one it runs.
///
/// `avx2` is the Swift `SIMD8<Float>` tile (6 × 16; AVX2 + FMA on x86-64, NEON on arm64): it runs
/// wherever TemperKit loads and stays the reference. `avx512` is the 14 × 32 tile in C
/// (CTemperSupport/AVX512GEMM.c) over the 32 zmm registers, for CPUs with AVX-512 F/BW/VL. Both
/// give every element of C the same operations in the same order with the same depth blocks, so
/// results are bitwise identical whichever runs. The CPU is asked once; `TEMPER_KERNELS=avx2|avx512`
/// overrides the choice, so a run can be pinned to the reference path.
public enum GEMMKernel: String, CaseIterable, Sendable {
    case avx2, avx512

    /// Rows of the register tile and of a packed A sliver.
    var mr: Int { self == .avx2 ? GEMMMicrokernel.mr : Int(TEMPER_AVX512_MR) }
    /// Columns of the register tile and of a packed B sliver.
    var nr: Int { self == .avx2 ? GEMMMicrokernel.nr : Int(TEMPER_AVX512_NR) }
    /// Rows of A packed at once: a multiple of `mr` whose `mc × kcLarge` block fits well inside L2
    /// (168 × 512 floats is 336 KiB).
    var mc: Int { self == .avx2 ? 120 : 168 }

    /// The kernels this CPU runs, the reference first.
    public static let supported: [GEMMKernel] = temper_avx512_supported() != 0 ? [.avx2, .avx512] : [.avx2]

    /// The kernel the packed GEMM uses now. Changed only by `using(_:_:)` (and tests), while no
    /// product is running.
    public internal(set) nonisolated(unsafe) static var active: GEMMKernel = {
        let (kernel, warning) = choose(ProcessInfo.processInfo.environment["TEMPER_KERNELS"], supported: supported)
        if let warning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
        return kernel
    }()

    /// The kernel for a `TEMPER_KERNELS` value: unset or empty picks the widest supported one; a
    /// value naming no kernel, or one this CPU lacks, falls back with a warning saying so.
    static func choose(_ value: String?, supported: [GEMMKernel]) -> (GEMMKernel, warning: String?) {
        let widest = supported.last ?? .avx2
        guard let value, !value.isEmpty else { return (widest, nil) }
        guard let asked = GEMMKernel(rawValue: value.lowercased()) else {
            return (widest, "temper: TEMPER_KERNELS=\(value) is not one of avx2, avx512; using \(widest.rawValue)")
        }
        guard supported.contains(asked) else {
            return (widest, "temper: TEMPER_KERNELS=\(value) asks for a kernel this CPU lacks (it has "
                        + supported.map(\.rawValue).joined(separator: ", ") + "); using \(widest.rawValue)")
        }
        return (asked, nil)
    }

    /// Runs `body` with `kernel` as the GEMM kernel, then restores the previous one: benchmarks
    /// and tests compare the paths in one process this way. Call it while no product is running.
    public static func using<R>(_ kernel: GEMMKernel, _ body: () throws -> R) rethrows -> R {
        precondition(supported.contains(kernel), "GEMMKernel.using: this CPU does not run \(kernel.rawValue)")
        let saved = active
        active = kernel
        defer { active = saved }
        return try body()
    }
}

/// Whether the packed GEMM multiplies in float32 or in bf16 (Hugging Face's `bf16: true`): the bf16
/// mode rounds op(A) and op(B) to bfloat16 as it packs them and multiplies with AVX512_BF16's
/// vdpbf16ps, two depth steps per instruction into float32 accumulators — twice the multiply
/// throughput of the float32 tile, at bf16's 8-bit mantissa on the inputs. C, and everything outside
/// the products (master weights, optimizer state, the loss), stays float32. Opt-in; the GEMV and
/// small-batch decode paths are unaffected.
public enum GEMMPrecision: String, Sendable {
    case float32, bf16

    /// Whether this CPU runs the bf16 tile (AVX-512 F/BW/VL and AVX512_BF16), asked once.
    public static let bf16Supported = temper_avx512bf16_supported() != 0

    /// The precision of the packed GEMM now: float32 unless `set(.bf16)` was called.
    public internal(set) nonisolated(unsafe) static var active = GEMMPrecision.float32

    /// Makes every later packed product run in `precision`; call it while no product is running.
    /// `.bf16` is refused on a CPU without AVX512_BF16 (`cpuHasBF16` stands in for the CPU in tests).
    public static func set(_ precision: GEMMPrecision, cpuHasBF16: Bool = bf16Supported) throws {
        if precision == .bf16 && !cpuHasBF16 { throw UnavailablePrecision() }
        active = precision
    }

    /// Runs `body` in `precision`, then restores the previous one (tests and benchmarks).
    public static func using<R>(_ precision: GEMMPrecision, _ body: () throws -> R) throws -> R {
        let saved = active
        try set(precision)
        defer { active = saved }
        return try body()
    }

    /// The refusal of `.bf16` on a CPU that cannot run it.
    public struct UnavailablePrecision: Error, CustomStringConvertible {
        public init() {}
        public var description: String {
            "bf16 mixed precision needs a CPU with AVX512_BF16 (the vdpbf16ps instruction), which this one lacks "
                + "(its GEMM kernels: \(GEMMKernel.supported.map(\.rawValue).joined(separator: ", "))); train in float32 instead"
        }
    }
}

/// The register tile GEMM's blocked loops run: one of the float kernels, or the bf16 mode's tile
/// (the AVX-512 tile's 14 × 32 shape, over packed bf16 pairs).
enum GEMMTile {
    case float(GEMMKernel), bf16

    /// The tile for the active kernel and precision.
    static var active: GEMMTile { GEMMPrecision.active == .bf16 ? .bf16 : .float(GEMMKernel.active) }

    var mr: Int { if case .float(let k) = self { k.mr } else { Int(TEMPER_AVX512_MR) } }
    var nr: Int { if case .float(let k) = self { k.nr } else { Int(TEMPER_AVX512_NR) } }
    var mc: Int { if case .float(let k) = self { k.mc } else { GEMMKernel.avx512.mc } }
}
