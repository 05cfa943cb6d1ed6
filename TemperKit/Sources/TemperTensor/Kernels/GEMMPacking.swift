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
            } else {
                // Each row is contiguous in depth: stream it into every mr-th slot.
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
            if trans {
                // Column j of op(B) is row j of the stored matrix, contiguous in depth.
                for c in 0..<width {
                    let src = b + (j0 + c) * ldb + depth.lowerBound
                    var d = out + c
                    for p in 0..<kc { d.pointee = src[p]; d += nr }
                }
                if width < nr {
                    for p in 0..<kc {
                        let d = out + p * nr
                        for c in width..<nr { d[c] = 0 }
                    }
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
}
