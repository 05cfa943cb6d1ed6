import XCTest
@testable import TemperTensor

/// `SmallBatchGEMM` (2…16 rows of A times a `[n, k]`-stored B, reached through `GEMM.sgemm` with
/// transB) against the Double reference, at every row count it takes and sizes that are not
/// multiples of its 4-column panels or the SIMD width, and bitwise across thread counts.
extension GEMMTests {
    func testSmallBatchRowsAgainstStoredWeightRows() {
        for m in 2...(SmallBatchGEMM.maxRows + 1) {
            for (n, k) in [(1, 9), (3, 8), (4, 1), (7, 75), (37, 64), (41, 17)] {
                check(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, beta: 0)
                check(transA: false, transB: true, m: m, n: n, k: k, alpha: -0.75, beta: 0.5, pad: 2)
            }
        }
    }

    func testSmallBatchIsIdenticalForOneAndTwoThreads() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        for (m, n, k) in [(8, 1001, 576), (3, 4099, 70), (16, 577, 300)] {
            let a = Matrix(rows: m, cols: k, pad: 1, seed: 8), b = Matrix(rows: n, cols: k, pad: 3, seed: 9)
            var results: [[Float]] = []
            for threads in [1, 2] {
                Parallel.threadCount = threads
                var c = Matrix(rows: m, cols: n, pad: 0, seed: 10)
                a.values.withUnsafeBufferPointer { ap in
                    b.values.withUnsafeBufferPointer { bp in
                        GEMM.sgemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: a.ld,
                                   b: bp.baseAddress!, ldb: b.ld, beta: 0, c: &c.values, ldc: c.ld)
                    }
                }
                results.append(c.values)
            }
            XCTAssertEqual(results[0], results[1], "m=\(m) n=\(n) k=\(k) differs between 1 and 2 threads")
            XCTAssertFalse(results[0].contains { !$0.isFinite })
        }
    }

    /// C = A · Bᵀ through `GEMM.sgemm` (small batch path for 2…16 rows, GEMV for one).
    private func product(_ a: Matrix, _ b: Matrix, m: Int, n: Int, k: Int) -> [Float] {
        var c = Matrix(rows: m, cols: n, pad: 0, seed: 10)
        a.values.withUnsafeBufferPointer { ap in
            b.values.withUnsafeBufferPointer { bp in
                GEMM.sgemm(transA: false, transB: true, m: m, n: n, k: k, alpha: 1, a: ap.baseAddress!, lda: a.ld,
                           b: bp.baseAddress!, ldb: b.ld, beta: 0, c: &c.values, ldc: c.ld)
            }
        }
        return c.values
    }

    func testSmallBatchAVX512PanelsEqualTheAVX2TileBitForBit() throws {
        guard GEMMKernel.supported.contains(.avx512) else { throw XCTSkip("this CPU lacks avx512") }
        // Row counts on every remainder of the 4-row groups, widths with and without a tail past
        // the 8-column panels, depths with and without a tail past the 8-float steps, and (1100)
        // depths whose packed row pairs outgrow the kernel's stack buffer at 15 rows.
        for (m, n, k) in [(2, 24, 576), (3, 19, 70), (5, 41, 9), (8, 1001, 576), (13, 16, 33), (16, 577, 300),
                          (7, 12, 1100), (15, 12, 1100)] {
            let a = Matrix(rows: m, cols: k, pad: 1, seed: 8), b = Matrix(rows: n, cols: k, pad: 3, seed: 9)
            let wide = GEMMKernel.using(.avx512) { product(a, b, m: m, n: n, k: k) }
            let narrow = GEMMKernel.using(.avx2) { product(a, b, m: m, n: n, k: k) }
            XCTAssertEqual(wide.map(\.bitPattern), narrow.map(\.bitPattern), "m=\(m) n=\(n) k=\(k): AVX-512 and AVX2 differ")
        }
    }

    func testSharedInputProductsEqualSeparateProductsBitForBit() {
        // q, k, v-like widths (and an odd one) for one row (GEMV) and for small batches.
        let k = 70, widths = [64, 24, 24, 13]
        let bs = widths.enumerated().map { Matrix(rows: $1, cols: k, pad: 0, seed: 20 + UInt64($0)) }
        for m in [1, 2, 8, 16] {
            let a = Matrix(rows: m, cols: k, pad: 0, seed: 7)
            let separate = zip(bs, widths).map { b, n in product(a, b, m: m, n: n, k: k) }
            var fused = widths.map { [Float](repeating: .nan, count: m * $0) }
            let weights = bs.map { b in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: b.values.count)
                p.initialize(from: b.values, count: b.values.count)
                return p
            }
            let outs = widths.map { UnsafeMutablePointer<Float>.allocate(capacity: m * $0) }
            defer { (weights + outs).forEach { $0.deallocate() } }
            a.values.withUnsafeBufferPointer { ap in
                SharedInputProducts.run(m: m, k: k, x: ap.baseAddress!,
                                        widths.indices.map { .init(weight: weights[$0], n: widths[$0], output: outs[$0]) })
            }
            for i in fused.indices { fused[i] = Array(UnsafeBufferPointer(start: outs[i], count: m * widths[i])) }
            for i in widths.indices {
                XCTAssertEqual(fused[i].map(\.bitPattern), separate[i].map(\.bitPattern), "m=\(m), weight \(i) (\(widths[i]) columns)")
            }
        }
    }
}
