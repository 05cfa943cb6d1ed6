import CTemperSupport

/// `C = alpha · A · Bᵀ + beta · C` for a few rows of A (2…`maxRows`) against B stored `[n, k]` —
/// every linear layer while decoding a small batch (one token per sequence).
///
/// Packing B would read and write the whole weight to serve a handful of rows, and one GEMV per
/// row would stream the weight from memory once per row. Here a panel of four rows of B is read
/// once from memory and then, from L1, serves every row of A: tiles of 4 outputs × 2 rows of A
/// keep 8 eight-lane accumulators (enough independent FMAs to hide their latency) and the 6
/// loaded vectors in registers — a 4 × 3 tile needs 17 and spills an accumulator, which chains
/// every iteration through a store and a reload. An odd last row of A gets a 4 × 1 tile.
///
/// Where the CPU has AVX-512 (and `GEMMKernel.active` is `.avx512`), whole 4-row panels of B go to
/// a C kernel (CTemperSupport/SmallBatchAVX512.c) that does the same lane arithmetic in zmm
/// registers for up to 8 rows of A in one pass over the panel — at 8 rows the multiply-adds take
/// about a third as long as streaming the weight, so each weight byte must be read once and early
/// (it also requests panels a few ahead into L2), and the lane sums are added by transposes, not
/// one reduction per output.
///
/// The split between threads is by panels of B, and each output goes through the same operations
/// wherever it falls (and on either instruction set), so results do not depend on
/// `Parallel.threadCount` or `GEMMKernel.active`.
enum SmallBatchGEMM {
    /// Most rows of A this kernel takes; beyond it the packed GEMM's register tiles win.
    static let maxRows = 16
    /// Below this many multiply-adds a product stays on one thread.
    static let parallelThreshold = 1 << 17

    typealias V = SIMD8<Float>

    /// Computes the product; A is `m × k` with rows `lda` apart, B is `n × k` with rows `ldb` apart.
    static func run(m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let chunks = m * n * k >= parallelThreshold ? min(Parallel.threadCount, max(1, n / 16)) : 1
        let per = ((n + chunks - 1) / chunks + 3) / 4 * 4
        Parallel.forEach((n + per - 1) / per) { t in
            let j0 = t * per
            columns(j0..<min(n, j0 + per), m: m, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                    beta: beta, c: c, ldc: ldc)
        }
    }

    @inline(__always)
    static func put(_ sum: Float, _ alpha: Float, _ beta: Float, _ y: UnsafeMutablePointer<Float>) {
        y.pointee = beta == 0 ? alpha * sum : alpha * sum + beta * y.pointee
    }

    @inline(__always)
    static func load(_ p: UnsafeRawPointer, _ off: Int) -> V { p.loadUnaligned(fromByteOffset: off, as: V.self) }

    /// The dot product of `row` and `x` from lane sums plus the scalar tail from `k8`.
    @inline(__always)
    static func finish(_ acc: V, _ row: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ k8: Int, _ k: Int) -> Float {
        var s = acc.sum()
        var p = k8
        while p < k { s = s.addingProduct(row[p], x[p]); p += 1 }
        return s
    }

    /// Outputs in columns `cols` (rows of B) for every row of A.
    static func columns(_ cols: Range<Int>, m: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                        b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let k8 = k & ~7, bytes = k8 * 4
        var j = cols.lowerBound
        #if arch(x86_64)
        if GEMMKernel.active == .avx512 && m <= maxRows {
            j = panelsAVX512(cols, m: m, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
        #endif
        while j + 4 <= cols.upperBound {
            let w0 = b + j * ldb, w1 = w0 + ldb, w2 = w1 + ldb, w3 = w2 + ldb
            let r0 = UnsafeRawPointer(w0), r1 = UnsafeRawPointer(w1), r2 = UnsafeRawPointer(w2), r3 = UnsafeRawPointer(w3)
            // Later passes over this panel are L1 hits, which the hardware prefetchers do not see;
            // fetch the next panel meanwhile, two of its rows per pass (the last panel refetches itself).
            let nextPanel = UnsafeRawPointer(j + 8 <= cols.upperBound ? w0 + 4 * ldb : w0)
            var i = 0
            while i + 2 <= m {
                let x0 = a + i * lda, x1 = x0 + lda
                let p0 = UnsafeRawPointer(x0), p1 = UnsafeRawPointer(x1)
                let f0 = nextPanel + ((i >> 1) & 1) * 2 * ldb * 4, f1 = f0 + ldb * 4
                var c00 = V(), c01 = V(), c02 = V(), c03 = V()
                var c10 = V(), c11 = V(), c12 = V(), c13 = V()
                var off = 0
                while off < bytes {
                    temper_prefetch(f0 + off)
                    temper_prefetch(f1 + off)
                    let b0 = load(r0, off), b1 = load(r1, off), b2 = load(r2, off), b3 = load(r3, off)
                    let a0 = load(p0, off), a1 = load(p1, off)
                    c00 = c00.addingProduct(a0, b0); c01 = c01.addingProduct(a0, b1)
                    c02 = c02.addingProduct(a0, b2); c03 = c03.addingProduct(a0, b3)
                    c10 = c10.addingProduct(a1, b0); c11 = c11.addingProduct(a1, b1)
                    c12 = c12.addingProduct(a1, b2); c13 = c13.addingProduct(a1, b3)
                    off += 32
                }
                let y0 = c + i * ldc + j, y1 = y0 + ldc
                put(finish(c00, w0, x0, k8, k), alpha, beta, y0); put(finish(c01, w1, x0, k8, k), alpha, beta, y0 + 1)
                put(finish(c02, w2, x0, k8, k), alpha, beta, y0 + 2); put(finish(c03, w3, x0, k8, k), alpha, beta, y0 + 3)
                put(finish(c10, w0, x1, k8, k), alpha, beta, y1); put(finish(c11, w1, x1, k8, k), alpha, beta, y1 + 1)
                put(finish(c12, w2, x1, k8, k), alpha, beta, y1 + 2); put(finish(c13, w3, x1, k8, k), alpha, beta, y1 + 3)
                i += 2
            }
            if i < m {
                let x0 = a + i * lda
                let p0 = UnsafeRawPointer(x0)
                var c00 = V(), c01 = V(), c02 = V(), c03 = V()
                var off = 0
                while off < bytes {
                    let a0 = load(p0, off)
                    c00 = c00.addingProduct(a0, load(r0, off)); c01 = c01.addingProduct(a0, load(r1, off))
                    c02 = c02.addingProduct(a0, load(r2, off)); c03 = c03.addingProduct(a0, load(r3, off))
                    off += 32
                }
                let y0 = c + i * ldc + j
                put(finish(c00, w0, x0, k8, k), alpha, beta, y0); put(finish(c01, w1, x0, k8, k), alpha, beta, y0 + 1)
                put(finish(c02, w2, x0, k8, k), alpha, beta, y0 + 2); put(finish(c03, w3, x0, k8, k), alpha, beta, y0 + 3)
            }
            j += 4
        }
        while j < cols.upperBound {
            let w0 = b + j * ldb
            let r0 = UnsafeRawPointer(w0)
            for i in 0..<m {
                let x0 = a + i * lda
                let p0 = UnsafeRawPointer(x0)
                var c00 = V()
                var off = 0
                while off < bytes { c00 = c00.addingProduct(load(p0, off), load(r0, off)); off += 32 }
                put(finish(c00, w0, x0, k8, k), alpha, beta, c + i * ldc + j)
            }
            j += 1
        }
    }

    #if arch(x86_64)
    /// The whole 4-column panels of `cols` on AVX-512; returns the first column it left to the
    /// AVX2 code (at most 3 remain).
    static func panelsAVX512(_ cols: Range<Int>, m: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) -> Int {
        let whole = cols.count & ~3
        temper_avx512_small_batch_columns(m, whole, k, a, lda, b + cols.lowerBound * ldb, ldb, alpha, beta,
                                          c + cols.lowerBound, ldc)
        return cols.lowerBound + whole
    }
    #endif
}
