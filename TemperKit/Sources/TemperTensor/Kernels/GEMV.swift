import CTemperSupport

/// Matrix–vector products, the shape of every matmul at decode time (one token per sequence).
///
/// Packing would cost as much memory traffic as the product itself, so these kernels read the
/// matrix in place, once, with unit-stride SIMD loads. Two layouts occur:
/// - depth-contiguous (`y[j] = Σ_p M[j, p] · x[p]`, each output a dot product of a matrix row),
///   e.g. `x · Wᵀ` with W stored `[out, in]`;
/// - output-contiguous (`y[j] = Σ_p x[p] · M[p, j]`, outputs as SIMD lanes, one row per step).
///
/// Each output element is computed by the same sequence of operations wherever it falls in the
/// split between threads, so results do not depend on `Parallel.threadCount`.
enum GEMV {
    /// Below this many multiply-adds a product stays on one thread. Low, because at decode time
    /// these products are memory-bound and the worker pool hands out a job in about a microsecond:
    /// even a key/value projection (576 × 192) reads its weight faster on both cores.
    static let parallelThreshold = 1 << 15
    /// Outputs accumulated at once in the output-contiguous layout (8 KiB of L1).
    static let strip = 2048

    /// `y[j * incY] = alpha * Σ_p M(j, p) · x[p * incX] + beta * y[j * incY]` for `j < count`,
    /// where `M(j, p)` is `matrix[j * ldm + p]` if `depthContiguous`, else `matrix[p * ldm + j]`.
    static func run(count: Int, k: Int, alpha: Float, x: UnsafePointer<Float>, incX: Int,
                    matrix: UnsafePointer<Float>, ldm: Int, depthContiguous: Bool,
                    beta: Float, y: UnsafeMutablePointer<Float>, incY: Int) {
        let chunks = count * k >= parallelThreshold ? min(Parallel.threadCount, max(1, count / 8)) : 1
        let per = ((count + chunks - 1) / chunks + 7) / 8 * 8
        let pieces = (count + per - 1) / per
        func dot(_ xs: UnsafePointer<Float>) {
            Parallel.forEach(pieces) { t in
                let j0 = t * per
                dotRows(j0..<min(count, j0 + per), k: k, alpha: alpha, x: xs, matrix: matrix,
                        ldm: ldm, beta: beta, y: y, incY: incY)
            }
        }
        if depthContiguous && incX == 1 {
            dot(x)
        } else if depthContiguous {
            // Dot products want x contiguous: gather it once.
            GEMMWorkspace.with { ws in
                let buffer = ws.vector(k)
                for p in 0..<k { buffer[p] = x[p * incX] }
                dot(buffer)
            }
        } else {
            Parallel.forEach(pieces) { t in
                let j0 = t * per
                axpyColumns(j0..<min(count, j0 + per), k: k, alpha: alpha, x: x, incX: incX,
                            matrix: matrix, ldm: ldm, beta: beta, y: y, incY: incY)
            }
        }
    }

    /// Writes `alpha * sum + beta * y` to `y` (only `alpha * sum` when `beta == 0`).
    @inline(__always)
    static func put(_ sum: Float, _ alpha: Float, _ beta: Float, _ y: UnsafeMutablePointer<Float>) {
        y.pointee = beta == 0 ? alpha * sum : alpha * sum + beta * y.pointee
    }

    /// Finishes one row's dot product from its two vector partial sums and the scalar tail.
    @inline(__always)
    static func finish(_ lo: SIMD8<Float>, _ hi: SIMD8<Float>, row: UnsafePointer<Float>,
                       x: UnsafePointer<Float>, from start: Int, k: Int) -> Float {
        var sum = (lo + hi).sum()
        var p = start
        while p < k { sum = sum.addingProduct(row[p], x[p]); p += 1 }
        return sum
    }

    /// Dot-product layout for outputs `rows`, four rows at a time so each load of x serves four.
    static func dotRows(_ rows: Range<Int>, k: Int, alpha: Float, x: UnsafePointer<Float>,
                        matrix: UnsafePointer<Float>, ldm: Int, beta: Float,
                        y: UnsafeMutablePointer<Float>, incY: Int) {
        let xr = UnsafeRawPointer(x)
        let k16 = k & ~15
        var j = rows.lowerBound
        while j + 4 <= rows.upperBound {
            let r0 = matrix + j * ldm, r1 = r0 + ldm, r2 = r1 + ldm, r3 = r2 + ldm
            let p0 = UnsafeRawPointer(r0), p1 = UnsafeRawPointer(r1)
            let p2 = UnsafeRawPointer(r2), p3 = UnsafeRawPointer(r3)
            // The next four rows are requested while these are summed, so twice as many rows'
            // cache lines are on their way from memory as the hardware prefetchers keep in flight.
            let n0 = UnsafeRawPointer(j + 8 <= rows.upperBound ? r0 + 4 * ldm : r0)
            let n1 = n0 + ldm * 4, n2 = n1 + ldm * 4, n3 = n2 + ldm * 4
            var a0 = SIMD8<Float>(), b0 = SIMD8<Float>(), a1 = SIMD8<Float>(), b1 = SIMD8<Float>()
            var a2 = SIMD8<Float>(), b2 = SIMD8<Float>(), a3 = SIMD8<Float>(), b3 = SIMD8<Float>()
            var off = 0
            while off < k16 * 4 {
                temper_prefetch(n0 + off); temper_prefetch(n1 + off)
                temper_prefetch(n2 + off); temper_prefetch(n3 + off)
                let xl = xr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
                let xh = xr.loadUnaligned(fromByteOffset: off + 32, as: SIMD8<Float>.self)
                a0 = a0.addingProduct(p0.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self), xl)
                b0 = b0.addingProduct(p0.loadUnaligned(fromByteOffset: off + 32, as: SIMD8<Float>.self), xh)
                a1 = a1.addingProduct(p1.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self), xl)
                b1 = b1.addingProduct(p1.loadUnaligned(fromByteOffset: off + 32, as: SIMD8<Float>.self), xh)
                a2 = a2.addingProduct(p2.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self), xl)
                b2 = b2.addingProduct(p2.loadUnaligned(fromByteOffset: off + 32, as: SIMD8<Float>.self), xh)
                a3 = a3.addingProduct(p3.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self), xl)
                b3 = b3.addingProduct(p3.loadUnaligned(fromByteOffset: off + 32, as: SIMD8<Float>.self), xh)
                off += 64
            }
            put(finish(a0, b0, row: r0, x: x, from: k16, k: k), alpha, beta, y + j * incY)
            put(finish(a1, b1, row: r1, x: x, from: k16, k: k), alpha, beta, y + (j + 1) * incY)
            put(finish(a2, b2, row: r2, x: x, from: k16, k: k), alpha, beta, y + (j + 2) * incY)
            put(finish(a3, b3, row: r3, x: x, from: k16, k: k), alpha, beta, y + (j + 3) * incY)
            j += 4
        }
        while j < rows.upperBound {
            let r0 = matrix + j * ldm
            let p0 = UnsafeRawPointer(r0)
            var a0 = SIMD8<Float>(), b0 = SIMD8<Float>()
            var off = 0
            while off < k16 * 4 {
                let xl = xr.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)
                let xh = xr.loadUnaligned(fromByteOffset: off + 32, as: SIMD8<Float>.self)
                a0 = a0.addingProduct(p0.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self), xl)
                b0 = b0.addingProduct(p0.loadUnaligned(fromByteOffset: off + 32, as: SIMD8<Float>.self), xh)
                off += 64
            }
            put(finish(a0, b0, row: r0, x: x, from: k16, k: k), alpha, beta, y + j * incY)
            j += 1
        }
    }

    /// Output-contiguous layout for outputs `cols`: rows of M are streamed in order, four at a
    /// time, into an accumulator strip that stays in L1, so the matrix is read sequentially (which
    /// the prefetchers follow) rather than in narrow column bands.
    static func axpyColumns(_ cols: Range<Int>, k: Int, alpha: Float, x: UnsafePointer<Float>, incX: Int,
                            matrix: UnsafePointer<Float>, ldm: Int, beta: Float,
                            y: UnsafeMutablePointer<Float>, incY: Int) {
        GEMMWorkspace.with { ws in
            let acc = ws.vector(strip)
            let accBytes = UnsafeMutableRawPointer(acc)
            var j0 = cols.lowerBound
            while j0 < cols.upperBound {
                let width = min(strip, cols.upperBound - j0)
                let width8 = width & ~7
                acc.update(repeating: 0, count: width)
                var p = 0
                while p + 4 <= k {
                    let s0 = x[p * incX], s1 = x[(p + 1) * incX], s2 = x[(p + 2) * incX], s3 = x[(p + 3) * incX]
                    let v0 = SIMD8<Float>(repeating: s0), v1 = SIMD8<Float>(repeating: s1)
                    let v2 = SIMD8<Float>(repeating: s2), v3 = SIMD8<Float>(repeating: s3)
                    let r0 = matrix + p * ldm + j0, r1 = r0 + ldm, r2 = r1 + ldm, r3 = r2 + ldm
                    let m0 = UnsafeRawPointer(r0), m1 = UnsafeRawPointer(r1)
                    let m2 = UnsafeRawPointer(r2), m3 = UnsafeRawPointer(r3)
                    var off = 0
                    while off < width8 * 4 {
                        var a = accBytes.load(fromByteOffset: off, as: SIMD8<Float>.self)
                        a = a.addingProduct(v0, m0.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self))
                        a = a.addingProduct(v1, m1.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self))
                        a = a.addingProduct(v2, m2.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self))
                        a = a.addingProduct(v3, m3.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self))
                        accBytes.storeBytes(of: a, toByteOffset: off, as: SIMD8<Float>.self)
                        off += 32
                    }
                    for j in width8..<width {
                        acc[j] = acc[j].addingProduct(s0, r0[j]).addingProduct(s1, r1[j])
                            .addingProduct(s2, r2[j]).addingProduct(s3, r3[j])
                    }
                    p += 4
                }
                while p < k {
                    let s0 = x[p * incX]
                    let v0 = SIMD8<Float>(repeating: s0)
                    let r0 = matrix + p * ldm + j0
                    let m0 = UnsafeRawPointer(r0)
                    var off = 0
                    while off < width8 * 4 {
                        let a = accBytes.load(fromByteOffset: off, as: SIMD8<Float>.self)
                        accBytes.storeBytes(of: a.addingProduct(v0, m0.loadUnaligned(fromByteOffset: off, as: SIMD8<Float>.self)),
                                            toByteOffset: off, as: SIMD8<Float>.self)
                        off += 32
                    }
                    for j in width8..<width { acc[j] = acc[j].addingProduct(s0, r0[j]) }
                    p += 1
                }
                var j = 0
                while j < width8 {
                    store(accBytes.load(fromByteOffset: j * 4, as: SIMD8<Float>.self), alpha, beta, y + (j0 + j) * incY, incY)
                    j += 8
                }
                for j in width8..<width { put(acc[j], alpha, beta, y + (j0 + j) * incY) }
                j0 += width
            }
        }
    }

    /// Writes eight outputs, lane by lane with the same arithmetic as `put`.
    @inline(__always)
    static func store(_ v: SIMD8<Float>, _ alpha: Float, _ beta: Float, _ y: UnsafeMutablePointer<Float>, _ incY: Int) {
        if incY == 1 {
            let p = UnsafeMutableRawPointer(y)
            if beta == 0 {
                p.storeBytes(of: alpha * v, as: SIMD8<Float>.self)
            } else {
                p.storeBytes(of: alpha * v + beta * p.loadUnaligned(as: SIMD8<Float>.self), as: SIMD8<Float>.self)
            }
        } else {
            for l in 0..<8 { put(v[l], alpha, beta, y + l * incY) }
        }
    }
}
