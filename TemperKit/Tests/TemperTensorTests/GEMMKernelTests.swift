import XCTest
@testable import TemperTensor

/// Every `GEMMTests` case of the packed path again, on the AVX-512 tile (skipped, with the reason
/// printed, on a CPU without AVX-512 F/BW/VL). The overrides are there because test discovery on
/// Linux lists only the methods a class declares itself.
final class GEMMAVX512Tests: GEMMTests {
    override class var kernel: GEMMKernel { .avx512 }

    override func testEveryTransposeAtOddSizes() { super.testEveryTransposeAtOddSizes() }
    override func testEveryTileEdge() { super.testEveryTileEdge() }
    override func testBlockBoundariesAreCrossed() { super.testBlockBoundariesAreCrossed() }
    override func testBetaZeroOverwritesNaNAndEmptyProductsScaleC() { super.testBetaZeroOverwritesNaNAndEmptyProductsScaleC() }
    override func testEmptyOutputLeavesCUntouched() { super.testEmptyOutputLeavesCUntouched() }
    override func testKnownSmallProduct() { super.testKnownSmallProduct() }
    override func testResultsAreIdenticalForOneAndTwoThreads() { super.testResultsAreIdenticalForOneAndTwoThreads() }
}

/// The kernel choice itself, and the promise that the paths agree bit for bit.
final class GEMMKernelTests: XCTestCase {
    func testEnvironmentOverrideAndFallbacks() {
        let both: [GEMMKernel] = [.avx2, .avx512], reference: [GEMMKernel] = [.avx2]
        XCTAssertEqual(GEMMKernel.choose(nil, supported: both).0, .avx512)
        XCTAssertEqual(GEMMKernel.choose("", supported: reference).0, .avx2)
        XCTAssertEqual(GEMMKernel.choose("avx2", supported: both).0, .avx2)
        XCTAssertEqual(GEMMKernel.choose("AVX512", supported: both).0, .avx512)
        XCTAssertNil(GEMMKernel.choose("avx512", supported: both).warning)
        let unknown = GEMMKernel.choose("sse", supported: both)
        XCTAssertEqual(unknown.0, .avx512)
        XCTAssertEqual(unknown.warning, "temper: TEMPER_KERNELS=sse is not one of avx2, avx512; using avx512")
        let lacking = GEMMKernel.choose("avx512", supported: reference)
        XCTAssertEqual(lacking.0, .avx2)
        XCTAssertEqual(lacking.warning,
                       "temper: TEMPER_KERNELS=avx512 asks for a kernel this CPU lacks (it has avx2); using avx2")
    }

    func testSupportedListStartsWithTheReferenceAndHoldsTheActiveKernel() {
        XCTAssertEqual(GEMMKernel.supported.first, .avx2)
        XCTAssertTrue(GEMMKernel.supported.contains(GEMMKernel.active))
        print("kernels this CPU runs: \(GEMMKernel.supported.map(\.rawValue)), active: \(GEMMKernel.active.rawValue)")
    }

    func testPathsAgreeBitForBit() throws {
        guard GEMMKernel.supported.contains(.avx512) else {
            print("skipped: this CPU lacks AVX-512 F/BW/VL; only the avx2 path runs here")
            throw XCTSkip("this CPU lacks AVX-512")
        }
        // Edges of both tiles, two depth blocks (k > kcLarge), one and two threads, beta 0 and not.
        let cases = [(false, true, 200, 301, 1100), (true, false, 301, 97, 130), (false, false, 29, 65, 300),
                     (true, true, 170, 33, 257), (false, true, 15, 3100, 40)]
        for (transA, transB, m, n, k) in cases {
            let a = GEMMTests.Matrix(rows: transA ? k : m, cols: transA ? m : k, pad: 3, seed: 7)
            let b = GEMMTests.Matrix(rows: transB ? n : k, cols: transB ? k : n, pad: 1, seed: 8)
            let c0 = GEMMTests.Matrix(rows: m, cols: n, pad: 2, seed: 9)
            for beta: Float in [0, 0.5] {
                var results: [[Float]] = []
                for kernel in [GEMMKernel.avx2, .avx512] {
                    var c = c0
                    GEMMKernel.using(kernel) {
                        a.values.withUnsafeBufferPointer { ap in
                            b.values.withUnsafeBufferPointer { bp in
                                GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: -1.25,
                                           a: ap.baseAddress!, lda: a.ld, b: bp.baseAddress!, ldb: b.ld,
                                           beta: beta, c: &c.values, ldc: c.ld)
                            }
                        }
                    }
                    results.append(c.values)
                }
                XCTAssertTrue(results[0].elementsEqual(results[1]) { $0 == $1 || ($0.isNaN && $1.isNaN) },
                              "transA=\(transA) transB=\(transB) m=\(m) n=\(n) k=\(k) beta=\(beta): avx2 and avx512 differ")
                XCTAssertNotEqual(results[0], c0.values)
            }
        }
    }
}
