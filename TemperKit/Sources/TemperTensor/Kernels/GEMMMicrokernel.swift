/// The innermost GEMM step: one `mr × nr` tile of C from a packed A sliver and a packed B sliver.
///
/// The 6×16 tile lives in twelve `SIMD8<Float>` accumulators (two per row), plus two for the current
/// B row and one for the broadcast A value: fifteen of the sixteen AVX2 registers, so nothing
/// spills. Each step of the depth loop does twelve FMAs on two aligned 32-byte loads of B and six
/// broadcasts of A. On arm64 each `SIMD8<Float>` becomes a pair of NEON registers (24 of 32).
enum GEMMMicrokernel {
    /// Rows of the register tile (and of a packed A sliver).
    static let mr = 6
    /// Columns of the register tile (and of a packed B sliver).
    static let nr = 16

    /// Computes the `kc`-deep product of the A sliver `a` (`kc` groups of `mr` floats) and the B
    /// sliver `b` (`kc` groups of `nr` floats, 64-byte aligned), then writes
    /// `C = alpha * product + beta * C` for the `rows × cols` part of the tile that exists.
    /// With `beta == 0`, C is only written, so NaN garbage in it never leaks into the result.
    /// `scratch` (96 floats) holds the tile when it is cut by the matrix edge.
    @inline(never)
    static func run(kc: Int, a: UnsafeRawPointer, b: UnsafeRawPointer,
                    c: UnsafeMutablePointer<Float>, ldc: Int, rows: Int, cols: Int,
                    alpha: Float, beta: Float, scratch: UnsafeMutablePointer<Float>) {
        var c0l = SIMD8<Float>(), c0h = SIMD8<Float>()
        var c1l = SIMD8<Float>(), c1h = SIMD8<Float>()
        var c2l = SIMD8<Float>(), c2h = SIMD8<Float>()
        var c3l = SIMD8<Float>(), c3h = SIMD8<Float>()
        var c4l = SIMD8<Float>(), c4h = SIMD8<Float>()
        var c5l = SIMD8<Float>(), c5h = SIMD8<Float>()
        for p in 0..<kc {
            let pa = a + p * 24
            let pb = b + p * 64
            let bl = pb.load(as: SIMD8<Float>.self)
            let bh = pb.load(fromByteOffset: 32, as: SIMD8<Float>.self)
            let a0 = SIMD8<Float>(repeating: pa.load(as: Float.self))
            c0l = c0l.addingProduct(a0, bl); c0h = c0h.addingProduct(a0, bh)
            let a1 = SIMD8<Float>(repeating: pa.load(fromByteOffset: 4, as: Float.self))
            c1l = c1l.addingProduct(a1, bl); c1h = c1h.addingProduct(a1, bh)
            let a2 = SIMD8<Float>(repeating: pa.load(fromByteOffset: 8, as: Float.self))
            c2l = c2l.addingProduct(a2, bl); c2h = c2h.addingProduct(a2, bh)
            let a3 = SIMD8<Float>(repeating: pa.load(fromByteOffset: 12, as: Float.self))
            c3l = c3l.addingProduct(a3, bl); c3h = c3h.addingProduct(a3, bh)
            let a4 = SIMD8<Float>(repeating: pa.load(fromByteOffset: 16, as: Float.self))
            c4l = c4l.addingProduct(a4, bl); c4h = c4h.addingProduct(a4, bh)
            let a5 = SIMD8<Float>(repeating: pa.load(fromByteOffset: 20, as: Float.self))
            c5l = c5l.addingProduct(a5, bl); c5h = c5h.addingProduct(a5, bh)
        }

        if rows == mr && cols == nr {
            update(c, c0l, c0h, alpha, beta)
            update(c + ldc, c1l, c1h, alpha, beta)
            update(c + 2 * ldc, c2l, c2h, alpha, beta)
            update(c + 3 * ldc, c3l, c3h, alpha, beta)
            update(c + 4 * ldc, c4l, c4h, alpha, beta)
            update(c + 5 * ldc, c5l, c5h, alpha, beta)
            return
        }
        // Edge tile: park the accumulators, then update only the elements inside C, with the same
        // arithmetic as the full-tile path so results never depend on where a tile falls.
        let s = UnsafeMutableRawPointer(scratch)
        s.storeBytes(of: c0l, toByteOffset: 0, as: SIMD8<Float>.self); s.storeBytes(of: c0h, toByteOffset: 32, as: SIMD8<Float>.self)
        s.storeBytes(of: c1l, toByteOffset: 64, as: SIMD8<Float>.self); s.storeBytes(of: c1h, toByteOffset: 96, as: SIMD8<Float>.self)
        s.storeBytes(of: c2l, toByteOffset: 128, as: SIMD8<Float>.self); s.storeBytes(of: c2h, toByteOffset: 160, as: SIMD8<Float>.self)
        s.storeBytes(of: c3l, toByteOffset: 192, as: SIMD8<Float>.self); s.storeBytes(of: c3h, toByteOffset: 224, as: SIMD8<Float>.self)
        s.storeBytes(of: c4l, toByteOffset: 256, as: SIMD8<Float>.self); s.storeBytes(of: c4h, toByteOffset: 288, as: SIMD8<Float>.self)
        s.storeBytes(of: c5l, toByteOffset: 320, as: SIMD8<Float>.self); s.storeBytes(of: c5h, toByteOffset: 352, as: SIMD8<Float>.self)
        for i in 0..<rows {
            let row = c + i * ldc
            let acc = scratch + i * nr
            if beta == 0 {
                for j in 0..<cols { row[j] = alpha * acc[j] }
            } else {
                for j in 0..<cols { row[j] = alpha * acc[j] + beta * row[j] }
            }
        }
    }

    /// Writes `alpha * (lo, hi) + beta * row[0..<16]` to the 16 floats at `row` (any alignment).
    @inline(__always)
    static func update(_ row: UnsafeMutablePointer<Float>, _ lo: SIMD8<Float>, _ hi: SIMD8<Float>,
                       _ alpha: Float, _ beta: Float) {
        let p = UnsafeMutableRawPointer(row)
        if beta == 0 {
            p.storeBytes(of: alpha * lo, as: SIMD8<Float>.self)
            p.storeBytes(of: alpha * hi, toByteOffset: 32, as: SIMD8<Float>.self)
        } else {
            let ol = p.loadUnaligned(as: SIMD8<Float>.self)
            let oh = p.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            p.storeBytes(of: alpha * lo + beta * ol, as: SIMD8<Float>.self)
            p.storeBytes(of: alpha * hi + beta * oh, toByteOffset: 32, as: SIMD8<Float>.self)
        }
    }
}
