import CTemperSupport

/// Single-precision matrix multiply, row-major: `C = alpha * op(A) * op(B) + beta * C`.
///
/// `op(A)` is `m × k`: A itself (`lda ≥ k`) or, with `transA`, the transpose of a stored `k × m`
/// matrix (`lda ≥ m`). Likewise `op(B)` is `k × n`. Transposes are handled by the packing
/// routines, never materialised.
///
/// A few rows of A against a `[n, k]`-stored B (`x · Wᵀ` while decoding a small batch) go to
/// `SmallBatchGEMM`, which reads each panel of B once for all rows.
/// Other products with at most `vectorLimit` rows or columns (decode steps, bias-like shapes) run as
/// matrix–vector products that read the other operand once, in place. Everything else is packed.
/// The blocking follows the BLIS loop order (columns by `nc`, depth by `kc`, rows by `mc`, then
/// the 6×16 register tiles): a packed `kc × nc` block of B stays in L2/L3, a packed `mc × kc`
/// block of A in L2, and one `kc × 16` sliver of B in L1 while the kernel walks down A.
/// The register tile and its packing are `GEMMKernel.active`'s: the 6×16 SIMD8 tile, or the 14×32
/// AVX-512 one where the CPU has it (same arithmetic per element, so the same results).
/// Above a size threshold C is split into one slab per thread (by columns, or by rows when C is
/// tall); each thread packs its own blocks, so the workers never synchronise. Every element of C
/// goes through the same sequence of operations whatever the split, so results are bitwise
/// identical for any `Parallel.threadCount`.
public enum GEMM {
    // Blocking for a core with 32 KiB L1d and 1 MiB L2 (AMD Zen 4; Intel and Apple cores have as
    // much or more). Swept on that machine: within ±5 % for mc 72…336 and nc 512…3072. The rows
    // packed at once (mc) depend on the tile: `GEMMKernel.mc`. The depth blocks must stay the
    // same for every kernel: they decide the order of the additions into C.
    /// Columns of B packed at once (a 6 MiB block at the largest depth, in L3).
    static let nc = 3072
    /// Depth of a packed block for short products…
    static let kcSmall = 256
    /// …and for long ones, where fewer passes over C pay for the larger block (+5 % at 1024³).
    static let kcLarge = 512
    /// Depth from which `kcLarge` is used.
    static let kcLargeFrom = 1024
    /// Up to this many rows (or columns) C is computed as matrix–vector products: packing
    /// op(B) would cost more memory traffic than the few rows of products it serves.
    static let vectorLimit = 4
    /// Below this many multiply-adds a call stays on one thread.
    static let parallelThreshold = 96 * 96 * 96

    /// Computes `C = alpha * op(A) * op(B) + beta * C` (see the type's documentation).
    /// With `beta == 0` C is write-only: whatever it held, NaN included, is ignored.
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if _slowPath(GEMMProfiler.isEnabled || OpProfiler.isEnabled) {
            GEMMProfiler.timed {
                product(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                        b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            }
        } else {
            product(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                    b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    /// `sgemm` without the profiling hook.
    static func product(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(m >= 0 && n >= 0 && k >= 0, "GEMM.sgemm: negative size m=\(m) n=\(n) k=\(k)")
        if m == 0 || n == 0 { return }
        precondition(ldc >= n, "GEMM.sgemm: ldc=\(ldc) is less than n=\(n)")
        if k == 0 || alpha == 0 {
            scale(m: m, n: n, beta: beta, c: c, ldc: ldc)
            return
        }
        precondition(lda >= (transA ? m : k), "GEMM.sgemm: lda=\(lda) is less than the width of A")
        precondition(ldb >= (transB ? k : n), "GEMM.sgemm: ldb=\(ldb) is less than the width of B")

        if m >= 2 && m <= SmallBatchGEMM.maxRows && !transA && transB {
            // A few token rows through a linear layer: read each weight panel once for all rows.
            SmallBatchGEMM.run(m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if m <= vectorLimit {
            // Each row of C is a row vector times op(B).
            for i in 0..<m {
                GEMV.run(count: n, k: k, alpha: alpha, x: transA ? a + i : a + i * lda, incX: transA ? lda : 1,
                         matrix: b, ldm: ldb, depthContiguous: transB, beta: beta, y: c + i * ldc, incY: 1)
            }
            return
        }
        if n <= vectorLimit {
            // Each column of C is op(A) times a column vector.
            for j in 0..<n {
                GEMV.run(count: m, k: k, alpha: alpha, x: transB ? b + j * ldb : b + j, incX: transB ? 1 : ldb,
                         matrix: a, ldm: lda, depthContiguous: !transA, beta: beta, y: c + j, incY: ldc)
            }
            return
        }

        let kc = depthBlock(k)
        let kernel = GEMMTile.active
        let chunks = m * n * k >= parallelThreshold ? Parallel.threadCount : 1
        if chunks == 1 {
            GEMMWorkspace.with { ws in
                blocked(kernel, transA: transA, transB: transB, m: m, n: n, k: k, kc: kc, alpha: alpha,
                        a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc, ws: ws)
            }
        } else if n >= m {
            let nr = kernel.nr
            let per = ((n + chunks - 1) / chunks + nr - 1) / nr * nr
            Parallel.forEach((n + per - 1) / per) { t in
                let j0 = t * per
                let width = min(per, n - j0)
                GEMMWorkspace.with { ws in
                    blocked(kernel, transA: transA, transB: transB, m: m, n: width, k: k, kc: kc, alpha: alpha,
                            a: a, lda: lda, b: transB ? b + j0 * ldb : b + j0, ldb: ldb,
                            beta: beta, c: c + j0, ldc: ldc, ws: ws)
                }
            }
        } else {
            let mr = kernel.mr
            let per = ((m + chunks - 1) / chunks + mr - 1) / mr * mr
            Parallel.forEach((m + per - 1) / per) { t in
                let i0 = t * per
                let height = min(per, m - i0)
                GEMMWorkspace.with { ws in
                    blocked(kernel, transA: transA, transB: transB, m: height, n: n, k: k, kc: kc, alpha: alpha,
                            a: transA ? a + i0 : a + i0 * lda, lda: lda, b: b, ldb: ldb,
                            beta: beta, c: c + i0 * ldc, ldc: ldc, ws: ws)
                }
            }
        }
    }

    /// The depth of each packed block: at most `kcSmall` (`kcLarge` for long products), with the
    /// blocks evened out so the last one is not a thin sliver that wastes a pass over C.
    static func depthBlock(_ k: Int) -> Int {
        let limit = k >= kcLargeFrom ? kcLarge : kcSmall
        let blocks = (k + limit - 1) / limit
        return (k + blocks - 1) / blocks
    }

    /// One thread's share: the full BLIS loop nest over an `m × n` piece of C, with `kernel`'s
    /// register tile and packing.
    static func blocked(_ kernel: GEMMTile, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, kc: Int,
                        alpha: Float, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, ws: GEMMWorkspace) {
        let mr = kernel.mr, nr = kernel.nr, mc = kernel.mc, nc = GEMM.nc
        let packedA = ws.packedA, packedB = ws.packedB, tile = ws.tile
        var jc = 0
        while jc < n {
            let ncb = min(nc, n - jc)
            var pc = 0
            while pc < k {
                let kcb = min(kc, k - pc)
                packB(kernel, trans: transB, b: b, ldb: ldb, depth: pc..<pc + kcb, cols: jc..<jc + ncb, into: packedB)
                // Later depth blocks add onto what the first one wrote.
                let blockBeta: Float = pc == 0 ? beta : 1
                var ic = 0
                while ic < m {
                    let mcb = min(mc, m - ic)
                    packA(kernel, trans: transA, a: a, lda: lda, rows: ic..<ic + mcb, depth: pc..<pc + kcb, into: packedA)
                    let cBlock = c + ic * ldc + jc
                    var jr = 0
                    while jr < ncb {
                        let bSliver = packedB + jr * kcb
                        let cols = min(nr, ncb - jr)
                        var ir = 0
                        while ir < mcb {
                            let aSliver = packedA + ir * kcb, cTile = cBlock + ir * ldc + jr
                            let rows = min(mr, mcb - ir)
                            switch kernel {
                            case .float(.avx2):
                                GEMMMicrokernel.run(kc: kcb, a: UnsafeRawPointer(aSliver), b: UnsafeRawPointer(bSliver),
                                                    c: cTile, ldc: ldc, rows: rows, cols: cols,
                                                    alpha: alpha, beta: blockBeta, scratch: tile)
                            case .float(.avx512):
                                #if arch(x86_64)
                                temper_avx512_gemm_tile(kcb, aSliver, bSliver, cTile, ldc, rows, cols, alpha, blockBeta)
                                #endif
                            case .bf16:
                                #if arch(x86_64)
                                temper_bf16_gemm_tile(kcb, aSliver, bSliver, cTile, ldc, rows, cols, alpha, blockBeta)
                                #endif
                            }
                            ir += mr
                        }
                        jr += nr
                    }
                    ic += mc
                }
                pc += kc
            }
            jc += nc
        }
    }

    /// Packs `op(A)[rows, depth]` into slivers of `kernel.mr` rows.
    @inline(__always)
    static func packA(_ kernel: GEMMTile, trans: Bool, a: UnsafePointer<Float>, lda: Int, rows: Range<Int>,
                      depth: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        let start = trans ? a + depth.lowerBound * lda + rows.lowerBound : a + rows.lowerBound * lda + depth.lowerBound
        #endif
        switch kernel {
        case .float(.avx2):
            GEMMPacking.packA(trans: trans, a: a, lda: lda, rows: rows, depth: depth, into: dst)
        case .float(.avx512):
            #if arch(x86_64)
            temper_avx512_pack_a(trans ? 1 : 0, start, lda, rows.count, depth.count, dst)
            #endif
        case .bf16:
            #if arch(x86_64)
            temper_bf16_pack_a(trans ? 1 : 0, start, lda, rows.count, depth.count, dst)
            #endif
        }
    }

    /// Packs `op(B)[depth, cols]` into slivers of `kernel.nr` columns.
    @inline(__always)
    static func packB(_ kernel: GEMMTile, trans: Bool, b: UnsafePointer<Float>, ldb: Int, depth: Range<Int>,
                      cols: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        let start = trans ? b + cols.lowerBound * ldb + depth.lowerBound : b + depth.lowerBound * ldb + cols.lowerBound
        #endif
        switch kernel {
        case .float(.avx2):
            GEMMPacking.packB(trans: trans, b: b, ldb: ldb, depth: depth, cols: cols, into: dst)
        case .float(.avx512):
            #if arch(x86_64)
            temper_avx512_pack_b(trans ? 1 : 0, start, ldb, depth.count, cols.count, dst)
            #endif
        case .bf16:
            #if arch(x86_64)
            temper_bf16_pack_b(trans ? 1 : 0, start, ldb, depth.count, cols.count, dst)
            #endif
        }
    }

    /// `C = beta * C`, with `beta == 0` writing zeros (the product term is empty or zero).
    static func scale(m: Int, n: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if beta == 1 { return }
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else {
                for j in 0..<n { row[j] *= beta }
            }
        }
    }
}
