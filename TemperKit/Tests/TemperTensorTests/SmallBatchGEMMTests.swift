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
}
