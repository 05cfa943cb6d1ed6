/// Copies blocks of op(A) and op(B) into the layouts the microkernel streams through.
///
/// A block becomes slivers of `mr` rows stored depth-major (`mr` floats per depth step), a B block
/// slivers of `nr` columns stored depth-major (`nr` floats per step). The kernel then reads both
/// with unit stride whatever the transposes were, and the last sliver of each block is padded with
/// zeros so the kernel never needs a short-edge variant of its inner loop.
enum GEMMPacking {
    /// Packs `op(A)[rows, depth]` into `dst` as `ceil(rows.count / mr)` slivers of `mr × kc`.
    /// `op(A)[i, p]` is `a[i * lda + p]`, or `a[p * lda + i]` when `trans`.
    static func packA(trans: Bool, a: UnsafePointer<Float>, lda: Int, rows: Range<Int>,
                      depth: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        let mr = GEMMMicrokernel.mr
        let kc = depth.count
        var out = dst
        var i0 = rows.lowerBound
        while i0 < rows.upperBound {
            let height = min(mr, rows.upperBound - i0)
            if trans {
                // Each depth step is a contiguous run of row values: copy it across.
                for p in 0..<kc {
                    let src = a + (depth.lowerBound + p) * lda + i0
                    let d = out + p * mr
                    if height == mr {
                        d[0] = src[0]; d[1] = src[1]; d[2] = src[2]
                        d[3] = src[3]; d[4] = src[4]; d[5] = src[5]
                    } else {
                        for r in 0..<height { d[r] = src[r] }
                        for r in height..<mr { d[r] = 0 }
                    }
                }
            } else if height == mr {
                // Rows are contiguous in depth: transpose 6 × 8 blocks (two zero rows fill out
                // the 8 × 8) and store each 8-float column at its 6-float slot. Each store runs
                // two floats into the next slot, which the next store (or the scalar tail, or the
                // next sliver) then overwrites; the workspace has slack for the very last one.
                let o = UnsafeMutableRawPointer(out)
                let src = UnsafeRawPointer(a + i0 * lda + depth.lowerBound)
                let rowBytes = lda * 4
                var p = 0
                while p + 8 <= kc {
                    let at = p * 4
                    var r = (src.loadUnaligned(fromByteOffset: at, as: SIMD8<Float>.self),
                             src.loadUnaligned(fromByteOffset: at + rowBytes, as: SIMD8<Float>.self),
                             src.loadUnaligned(fromByteOffset: at + 2 * rowBytes, as: SIMD8<Float>.self),
                             src.loadUnaligned(fromByteOffset: at + 3 * rowBytes, as: SIMD8<Float>.self),
                             src.loadUnaligned(fromByteOffset: at + 4 * rowBytes, as: SIMD8<Float>.self),
                             src.loadUnaligned(fromByteOffset: at + 5 * rowBytes, as: SIMD8<Float>.self),
                             SIMD8<Float>(), SIMD8<Float>())
                    unshuffle(&r); unshuffle(&r); unshuffle(&r)
                    let d = p * 24
                    o.storeBytes(of: r.0, toByteOffset: d, as: SIMD8<Float>.self)
                    o.storeBytes(of: r.1, toByteOffset: d + 24, as: SIMD8<Float>.self)
                    o.storeBytes(of: r.2, toByteOffset: d + 48, as: SIMD8<Float>.self)
                    o.storeBytes(of: r.3, toByteOffset: d + 72, as: SIMD8<Float>.self)
                    o.storeBytes(of: r.4, toByteOffset: d + 96, as: SIMD8<Float>.self)
                    o.storeBytes(of: r.5, toByteOffset: d + 120, as: SIMD8<Float>.self)
                    o.storeBytes(of: r.6, toByteOffset: d + 144, as: SIMD8<Float>.self)
                    o.storeBytes(of: r.7, toByteOffset: d + 168, as: SIMD8<Float>.self)
                    p += 8
                }
                let rows = a + i0 * lda + depth.lowerBound
                while p < kc {
                    let d = out + p * mr
                    for r in 0..<mr { d[r] = rows[r * lda + p] }
                    p += 1
                }
            } else {
                // A short last sliver: stream each row into every mr-th slot, zeros below.
                for r in 0..<height {
                    let src = a + (i0 + r) * lda + depth.lowerBound
                    var d = out + r
                    for p in 0..<kc { d.pointee = src[p]; d += mr }
                }
                for r in height..<mr {
                    var d = out + r
                    for _ in 0..<kc { d.pointee = 0; d += mr }
                }
            }
            out += mr * kc
            i0 += mr
        }
    }

    /// Packs `op(B)[depth, cols]` into `dst` (64-byte aligned) as `ceil(cols.count / nr)` slivers
    /// of `kc × nr`. `op(B)[p, j]` is `b[p * ldb + j]`, or `b[j * ldb + p]` when `trans`.
    static func packB(trans: Bool, b: UnsafePointer<Float>, ldb: Int, depth: Range<Int>,
                      cols: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        let nr = GEMMMicrokernel.nr
        let kc = depth.count
        var out = dst
        var j0 = cols.lowerBound
        while j0 < cols.upperBound {
            let width = min(nr, cols.upperBound - j0)
            if trans && width == nr {
                // Column j of op(B) is row j of the stored matrix: transpose 8 × 8 blocks in
                // registers so both the reads and the writes stay vector-wide.
                let o = UnsafeMutableRawPointer(out)
                let rowBytes = ldb * 4
                var p = 0
                while p + 8 <= kc {
                    for half in 0..<2 {
                        let src = UnsafeRawPointer(b + (j0 + 8 * half) * ldb + depth.lowerBound + p)
                        var r = (src.loadUnaligned(as: SIMD8<Float>.self),
                                 src.loadUnaligned(fromByteOffset: rowBytes, as: SIMD8<Float>.self),
                                 src.loadUnaligned(fromByteOffset: 2 * rowBytes, as: SIMD8<Float>.self),
                                 src.loadUnaligned(fromByteOffset: 3 * rowBytes, as: SIMD8<Float>.self),
                                 src.loadUnaligned(fromByteOffset: 4 * rowBytes, as: SIMD8<Float>.self),
                                 src.loadUnaligned(fromByteOffset: 5 * rowBytes, as: SIMD8<Float>.self),
                                 src.loadUnaligned(fromByteOffset: 6 * rowBytes, as: SIMD8<Float>.self),
                                 src.loadUnaligned(fromByteOffset: 7 * rowBytes, as: SIMD8<Float>.self))
                        unshuffle(&r); unshuffle(&r); unshuffle(&r)
                        let d = p * 64 + 32 * half
                        o.storeBytes(of: r.0, toByteOffset: d, as: SIMD8<Float>.self)
                        o.storeBytes(of: r.1, toByteOffset: d + 64, as: SIMD8<Float>.self)
                        o.storeBytes(of: r.2, toByteOffset: d + 128, as: SIMD8<Float>.self)
                        o.storeBytes(of: r.3, toByteOffset: d + 192, as: SIMD8<Float>.self)
                        o.storeBytes(of: r.4, toByteOffset: d + 256, as: SIMD8<Float>.self)
                        o.storeBytes(of: r.5, toByteOffset: d + 320, as: SIMD8<Float>.self)
                        o.storeBytes(of: r.6, toByteOffset: d + 384, as: SIMD8<Float>.self)
                        o.storeBytes(of: r.7, toByteOffset: d + 448, as: SIMD8<Float>.self)
                    }
                    p += 8
                }
                while p < kc {
                    let src = b + j0 * ldb + depth.lowerBound + p
                    let d = out + p * nr
                    for c in 0..<nr { d[c] = src[c * ldb] }
                    p += 1
                }
            } else if trans {
                for c in 0..<width {
                    let src = b + (j0 + c) * ldb + depth.lowerBound
                    var d = out + c
                    for p in 0..<kc { d.pointee = src[p]; d += nr }
                }
                for p in 0..<kc {
                    let d = out + p * nr
                    for c in width..<nr { d[c] = 0 }
                }
            } else if width == nr {
                let o = UnsafeMutableRawPointer(out)
                for p in 0..<kc {
                    let src = UnsafeRawPointer(b + (depth.lowerBound + p) * ldb + j0)
                    o.storeBytes(of: src.loadUnaligned(as: SIMD8<Float>.self), toByteOffset: p * 64, as: SIMD8<Float>.self)
                    o.storeBytes(of: src.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self),
                                 toByteOffset: p * 64 + 32, as: SIMD8<Float>.self)
                }
            } else {
                for p in 0..<kc {
                    let src = b + (depth.lowerBound + p) * ldb + j0
                    let d = out + p * nr
                    for c in 0..<width { d[c] = src[c] }
                    for c in width..<nr { d[c] = 0 }
                }
            }
            out += nr * kc
            j0 += nr
        }
    }

    /// Eight 8-float rows: one 8 × 8 block being transposed.
    typealias Rows8 = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>,
                       SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

    /// One round of an 8 × 8 transpose: row pairs are split into their even and odd elements.
    /// This rotates the six bits of each element's (row, column) index right by one, so three
    /// rounds swap the row and column bits — a transpose made only of in-register shuffles.
    @inline(__always)
    static func unshuffle(_ r: inout Rows8) {
        let p0 = SIMD16(lowHalf: r.0, highHalf: r.1), p1 = SIMD16(lowHalf: r.2, highHalf: r.3)
        let p2 = SIMD16(lowHalf: r.4, highHalf: r.5), p3 = SIMD16(lowHalf: r.6, highHalf: r.7)
        r = (p0.evenHalf, p1.evenHalf, p2.evenHalf, p3.evenHalf, p0.oddHalf, p1.oddHalf, p2.oddHalf, p3.oddHalf)
    }
}
