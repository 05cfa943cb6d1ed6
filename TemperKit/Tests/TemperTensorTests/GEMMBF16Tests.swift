import XCTest
@testable import TemperTensor

/// The bf16 mixed-precision mode of the packed GEMM (`GEMMPrecision.bf16`): its products equal the
/// products of the bf16-rounded inputs accumulated in float32, they stay within bf16's error of the
/// float32 GEMM, and the mode is refused on a CPU without AVX512_BF16. Skipped, with the reason
/// printed, where the CPU lacks it.
final class GEMMBF16Tests: XCTestCase {
    /// `x` rounded to bfloat16, to nearest even (what vcvtne2ps2bf16 does for normal numbers).
    static func bf16(_ x: Float) -> Float {
        let u = x.bitPattern
        return Float(bitPattern: (u &+ 0x7FFF &+ ((u >> 16) & 1)) & 0xFFFF_0000)
    }

    func testRoundingHelperMatchesKnownValues() {
        XCTAssertEqual(Self.bf16(1), 1)
        XCTAssertEqual(Self.bf16(1 + 1.0 / 256), 1)               // halfway: ties to even (1.0)
        XCTAssertEqual(Self.bf16(1 + 3.0 / 256), 1 + 4.0 / 256)   // halfway: ties to even (1 + 2⁻⁶)
        XCTAssertEqual(Self.bf16(0.1), 0.10009765625)
    }

    func testProductsAreTheRoundedInputsProductsWithinBF16OfFloat32() throws {
        guard GEMMPrecision.bf16Supported else {
            print("skipped: this CPU lacks AVX512_BF16; the bf16 mode cannot run here")
            throw XCTSkip("this CPU lacks AVX512_BF16")
        }
        // Tile edges (14 × 32), odd depths (a half-empty last pair), two depth blocks, every transpose;
        // m > SmallBatchGEMM.maxRows where B is transposed, since that float path serves fewer rows.
        let cases = [(false, true, 200, 301, 1101), (true, false, 301, 97, 131), (false, false, 29, 65, 300),
                     (true, true, 15, 33, 257), (false, true, 17, 31, 7), (false, false, 47, 3100, 40)]
        for (transA, transB, m, n, k) in cases {
            let a = GEMMTests.Matrix(rows: transA ? k : m, cols: transA ? m : k, pad: 3, seed: 17)
            let b = GEMMTests.Matrix(rows: transB ? n : k, cols: transB ? k : n, pad: 1, seed: 18)
            let c0 = GEMMTests.Matrix(rows: m, cols: n, pad: 2, seed: 19)
            for beta: Float in [0, 0.5] {
                var c = c0
                if beta == 0 { for i in c.values.indices { c.values[i] = .nan } }   // beta 0 never reads C
                try GEMMPrecision.using(.bf16) {
                    a.values.withUnsafeBufferPointer { ap in
                        b.values.withUnsafeBufferPointer { bp in
                            GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: -1.25,
                                       a: ap.baseAddress!, lda: a.ld, b: bp.baseAddress!, ldb: b.ld,
                                       beta: beta, c: &c.values, ldc: c.ld)
                        }
                    }
                }
                var worstRounded = 0.0, worstExact = 0.0, beyondFloat32 = 0
                for i in 0..<m {
                    for j in 0..<n {
                        var rounded = 0.0, exact = 0.0, magnitude = 0.0
                        for p in 0..<k {
                            let x = transA ? a[p, i] : a[i, p], y = transB ? b[j, p] : b[p, j]
                            rounded += Double(Self.bf16(x)) * Double(Self.bf16(y))
                            exact += Double(x) * Double(y)
                            magnitude += abs(Double(x) * Double(y))
                        }
                        let base = Double(beta) * (beta == 0 ? 0 : Double(c0[i, j]))
                        let got = Double(c.values[i * c.ld + j])
                        let scale = 1.25 * magnitude + 1e-30
                        // Against the rounded inputs: only float32 accumulation error remains.
                        let errRounded = abs(got - (-1.25 * rounded + base)) / scale
                        // Against the unrounded inputs: each input carries ≤ 2⁻⁹ relative error.
                        let errExact = abs(got - (-1.25 * exact + base)) / scale
                        worstRounded = max(worstRounded, errRounded)
                        worstExact = max(worstExact, errExact)
                        if errExact > 8 * Double(k).squareRoot() * 0x1p-24 { beyondFloat32 += 1 }
                    }
                }
                let label = "transA=\(transA) transB=\(transB) m=\(m) n=\(n) k=\(k) beta=\(beta)"
                XCTAssertLessThanOrEqual(worstRounded, 8 * Double(k).squareRoot() * 0x1p-24, label)
                XCTAssertLessThanOrEqual(worstExact, 0x1p-8, label)
                XCTAssertGreaterThan(beyondFloat32, 0, "\(label): no element shows bf16 rounding, so the bf16 tile did not run")
            }
        }
    }

    func testModeIsRefusedWithoutAVX512BF16AndRestored() throws {
        XCTAssertEqual(GEMMPrecision.active, .float32)
        XCTAssertThrowsError(try GEMMPrecision.set(.bf16, cpuHasBF16: false)) { error in
            XCTAssertEqual("\(error)", "bf16 mixed precision needs a CPU with AVX512_BF16 (the vdpbf16ps instruction), which this one lacks "
                           + "(its GEMM kernels: \(GEMMKernel.supported.map(\.rawValue).joined(separator: ", "))); train in float32 instead")
        }
        XCTAssertEqual(GEMMPrecision.active, .float32, "a refused switch changes nothing")
        try GEMMPrecision.set(.float32, cpuHasBF16: false)
        if GEMMPrecision.bf16Supported {
            try GEMMPrecision.using(.bf16) { XCTAssertEqual(GEMMPrecision.active, .bf16) }
            XCTAssertEqual(GEMMPrecision.active, .float32)
        }
    }
}
