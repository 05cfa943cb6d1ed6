import XCTest
@testable import TemperTensor

/// Checks `GEMM.sgemm` against a Double-accumulating triple loop: every transpose combination,
/// sizes that are not multiples of the 6×16 tile or the SIMD width, leading dimensions wider than
/// the matrices (with NaN in the gaps, so reading them would show), alpha/beta, and beta = 0 over
/// NaN-filled C. Sizes are chosen to reach both the packed path and the matrix–vector path.
/// These tests run the reference AVX2 kernel; `GEMMAVX512Tests` runs them all again on AVX-512.
class GEMMTests: XCTestCase {
    /// The register-tile kernel every test of this class runs.
    class var kernel: GEMMKernel { .avx2 }
    private var savedKernel = GEMMKernel.active

    override func setUpWithError() throws {
        try super.setUpWithError()
        let kernel = Self.kernel
        guard GEMMKernel.supported.contains(kernel) else {
            print("skipped: this CPU lacks \(kernel.rawValue) (it runs \(GEMMKernel.supported.map(\.rawValue)))")
            throw XCTSkip("this CPU lacks \(kernel.rawValue)")
        }
        savedKernel = GEMMKernel.active
        GEMMKernel.active = kernel
    }

    override func tearDown() {
        GEMMKernel.active = savedKernel
        super.tearDown()
    }

    /// A row-major matrix with a leading dimension and NaN in the padding past each row.
    struct Matrix {
        let rows: Int, cols: Int, ld: Int
        var values: [Float]

        init(rows: Int, cols: Int, pad: Int, seed: UInt64, fill: Float? = nil) {
            self.rows = rows; self.cols = cols; self.ld = cols + pad
            values = [Float](repeating: .nan, count: max(1, rows * ld))
            var state = seed &* 6364136223846793005 &+ 1442695040888963407
            for i in 0..<rows {
                for j in 0..<cols {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    values[i * ld + j] = fill ?? (Float(Int(state >> 41) % 2001) / 1000 - 1)
                }
            }
        }

        subscript(i: Int, j: Int) -> Float { values[i * ld + j] }
    }

    /// `alpha * op(A) op(B) + beta * C` in Double, and a bound on the float error of each element.
    func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: Matrix,
                   b: Matrix, beta: Float, c: Matrix) -> (values: [Double], tolerance: [Double]) {
        var out = [Double](repeating: 0, count: m * n), tol = out
        for i in 0..<m {
            for j in 0..<n {
                var sum = 0.0, magnitude = 0.0
                for p in 0..<k {
                    let product = Double(transA ? a[p, i] : a[i, p]) * Double(transB ? b[j, p] : b[p, j])
                    sum += product
                    magnitude += abs(product)
                }
                let old = beta == 0 ? 0 : Double(beta) * Double(c[i, j])
                out[i * n + j] = Double(alpha) * sum + old
                tol[i * n + j] = 2 * Double(Float.ulpOfOne) * (Double(k) + 2) * (abs(Double(alpha)) * magnitude + abs(old)) + 1e-30
            }
        }
        return (out, tol)
    }

    /// Runs one product and checks every element of C and that C's padding was left alone.
    func check(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, beta: Float,
               pad: Int = 3, file: StaticString = #filePath, line: UInt = #line) {
        let a = transA ? Matrix(rows: k, cols: m, pad: pad, seed: 1) : Matrix(rows: m, cols: k, pad: pad, seed: 1)
        let b = transB ? Matrix(rows: n, cols: k, pad: pad, seed: 2) : Matrix(rows: k, cols: n, pad: pad, seed: 2)
        var c = Matrix(rows: m, cols: n, pad: pad, seed: 3, fill: beta == 0 ? .nan : nil)
        let expected = reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                 a: a, b: b, beta: beta, c: c)
        a.values.withUnsafeBufferPointer { ap in
            b.values.withUnsafeBufferPointer { bp in
                c.values.withUnsafeMutableBufferPointer { cp in
                    GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                               a: ap.baseAddress!, lda: a.ld, b: bp.baseAddress!, ldb: b.ld,
                               beta: beta, c: cp.baseAddress!, ldc: c.ld)
                }
            }
        }
        let label = "transA=\(transA) transB=\(transB) m=\(m) n=\(n) k=\(k) alpha=\(alpha) beta=\(beta)"
        var failures = 0
        for i in 0..<m {
            for j in 0..<n where failures < 3 {
                let got = Double(c[i, j]), want = expected.values[i * n + j]
                if !(abs(got - want) <= expected.tolerance[i * n + j]) {
                    failures += 1
                    XCTFail("\(label): C[\(i), \(j)] = \(got), expected \(want)", file: file, line: line)
                }
            }
            for j in n..<c.ld where !c[i, j].isNaN && beta == 0 {
                XCTFail("\(label): padding C[\(i), \(j)] was written", file: file, line: line)
            }
        }
    }

    func testEveryTransposeAtOddSizes() {
        let shapes = [(1, 1, 1), (7, 1, 63), (1, 65, 7), (63, 65, 129), (65, 63, 7), (129, 7, 257),
                      (257, 129, 65), (7, 257, 1), (1, 257, 129), (129, 1, 65), (65, 129, 257),
                      (6, 16, 1), (2, 2, 300), (4, 65, 63), (5, 63, 65), (63, 4, 7), (65, 5, 129)]
        for transA in [false, true] {
            for transB in [false, true] {
                for (m, n, k) in shapes {
                    check(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, beta: 0)
                    check(transA: transA, transB: transB, m: m, n: n, k: k, alpha: -0.75, beta: 0.5)
                }
            }
        }
    }

    func testEveryTileEdge() {
        // One short of, exactly, and one past each tile's rows (6, 14), columns (16, 32) and row
        // block (120, 168), through both packing layouts of each operand.
        for (m, n) in [(5, 15), (6, 16), (7, 17), (13, 31), (14, 32), (15, 33), (27, 63), (28, 64), (29, 65),
                       (119, 47), (120, 48), (121, 49), (167, 9), (168, 10), (169, 11)] {
            for (transA, transB) in [(false, false), (true, true), (false, true), (true, false)] {
                check(transA: transA, transB: transB, m: m, n: n, k: 19, alpha: 1, beta: 0)
                check(transA: transA, transB: transB, m: m, n: n, k: 8, alpha: 0.5, beta: -2)
            }
        }
    }

    func testBlockBoundariesAreCrossed() {
        // Deeper than one packed depth block, taller than one row block, wider than one column block.
        check(transA: false, transB: true, m: 250, n: 40, k: 1100, alpha: 1, beta: 0, pad: 1)
        check(transA: true, transB: false, m: 7, n: GEMM.nc + 37, k: 20, alpha: 2, beta: 1, pad: 5)
        // Wider than one accumulator strip of the matrix–vector path.
        check(transA: false, transB: false, m: 3, n: GEMV.strip + 37, k: 9, alpha: 1, beta: 0, pad: 2)
    }

    func testBetaZeroOverwritesNaNAndEmptyProductsScaleC() {
        // k = 0: C = beta * C, and with beta = 0, zeros even where C held NaN.
        var c: [Float] = [1, 2, .nan, 4]
        let one: [Float] = [1]
        GEMM.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: one, lda: 1, b: one, ldb: 2,
                   beta: 0.5, c: &c, ldc: 2)
        XCTAssertEqual(c[0], 0.5); XCTAssertEqual(c[1], 1); XCTAssertTrue(c[2].isNaN); XCTAssertEqual(c[3], 2)
        c = [.nan, .nan, .nan, .nan]
        GEMM.sgemm(transA: false, transB: false, m: 2, n: 2, k: 0, alpha: 1, a: one, lda: 1, b: one, ldb: 2,
                   beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [0, 0, 0, 0])
        // alpha = 0 skips the product: C = beta * C.
        c = [1, 2, 3, 4]
        let a: [Float] = [1, 2, 3, 4]
        GEMM.sgemm(transA: false, transB: false, m: 2, n: 2, k: 2, alpha: 0, a: a, lda: 2, b: a, ldb: 2,
                   beta: 2, c: &c, ldc: 2)
        XCTAssertEqual(c, [2, 4, 6, 8])
        // beta = 0 with NaN in C, on the packed path and both vector paths.
        for (m, n, k) in [(9, 18, 5), (1, 40, 33), (40, 1, 33)] {
            check(transA: false, transB: false, m: m, n: n, k: k, alpha: 1.5, beta: 0)
        }
    }

    func testEmptyOutputLeavesCUntouched() {
        var c: [Float] = [7, 8]
        let a: [Float] = [1, 2]
        GEMM.sgemm(transA: false, transB: false, m: 0, n: 2, k: 1, alpha: 1, a: a, lda: 1, b: a, ldb: 2,
                   beta: 0, c: &c, ldc: 2)
        GEMM.sgemm(transA: false, transB: false, m: 1, n: 0, k: 1, alpha: 1, a: a, lda: 1, b: a, ldb: 1,
                   beta: 0, c: &c, ldc: 1)
        XCTAssertEqual(c, [7, 8])
    }

    func testKnownSmallProduct() {
        // [[1, 2, 3], [4, 5, 6]] · [[7, 8], [9, 10], [11, 12]] = [[58, 64], [139, 154]]
        let a: [Float] = [1, 2, 3, 4, 5, 6], b: [Float] = [7, 8, 9, 10, 11, 12]
        var c = [Float](repeating: .nan, count: 4)
        GEMM.sgemm(transA: false, transB: false, m: 2, n: 2, k: 3, alpha: 1, a: a, lda: 3, b: b, ldb: 2,
                   beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [58, 64, 139, 154])
        // The same product from transposed storage: Aᵀ stored 3×2, Bᵀ stored 2×3.
        let at: [Float] = [1, 4, 2, 5, 3, 6], bt: [Float] = [7, 9, 11, 8, 10, 12]
        GEMM.sgemm(transA: true, transB: true, m: 2, n: 2, k: 3, alpha: 1, a: at, lda: 2, b: bt, ldb: 3,
                   beta: 0, c: &c, ldc: 2)
        XCTAssertEqual(c, [58, 64, 139, 154])
    }

    func testResultsAreIdenticalForOneAndTwoThreads() {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        // Wide, tall, and both vector layouts, all above the parallel thresholds.
        let cases = [(false, true, 190, 301, 150), (true, false, 301, 97, 130), (false, false, 1, 4001, 300),
                     (false, true, 1, 4001, 300), (true, false, 3001, 1, 200), (false, true, 3001, 1, 200),
                     (false, false, 3, 2500, 100), (true, true, 2500, 3, 100)]
        for (transA, transB, m, n, k) in cases {
            let a = transA ? Matrix(rows: k, cols: m, pad: 2, seed: 4) : Matrix(rows: m, cols: k, pad: 2, seed: 4)
            let b = transB ? Matrix(rows: n, cols: k, pad: 1, seed: 5) : Matrix(rows: k, cols: n, pad: 1, seed: 5)
            var results: [[Float]] = []
            for threads in [1, 2] {
                Parallel.threadCount = threads
                var c = Matrix(rows: m, cols: n, pad: 0, seed: 6)
                a.values.withUnsafeBufferPointer { ap in
                    b.values.withUnsafeBufferPointer { bp in
                        GEMM.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5,
                                   a: ap.baseAddress!, lda: a.ld, b: bp.baseAddress!, ldb: b.ld,
                                   beta: -1, c: &c.values, ldc: c.ld)
                    }
                }
                results.append(c.values)
            }
            XCTAssertEqual(results[0], results[1], "m=\(m) n=\(n) k=\(k) differs between 1 and 2 threads")
            XCTAssertFalse(results[0].contains { !$0.isFinite })
        }
    }
}
