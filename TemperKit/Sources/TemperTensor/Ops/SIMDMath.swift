/// Vectorised transcendental functions on `SIMD8<Float>`.
///
/// Swift has no SIMD `exp`; calling libm per lane would dominate softmax, SiLU and attention. These
/// use range reduction plus a minimax polynomial (the classic Cephes `expf` coefficients), accurate
/// to about 2 ulp, and compile to straight-line AVX2/FMA code.
enum SIMDMath {
    /// e^x per lane. Overflows to +inf above ~88.72 and underflows to 0 below ~-103.9, like `expf`.
    @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let xc = clamp(x, -104, 89)
        // n = round(x / ln 2) via the 1.5·2^23 trick: the integer lands in the low mantissa bits.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let t = magic.addingProduct(xc, SIMD8(repeating: 1.442_695_04))
        let nf = t - magic
        let ni = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        // r = x - n ln 2, with ln 2 split in two parts so the reduction stays exact.
        var r = xc.addingProduct(nf, SIMD8(repeating: -0.693_359_375))
        r = r.addingProduct(nf, SIMD8(repeating: 2.121_944_4e-4))
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = SIMD8(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = SIMD8(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = SIMD8(repeating: 4.166_579_6e-2).addingProduct(p, r)
        p = SIMD8(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = SIMD8(repeating: 5.000_000_1e-1).addingProduct(p, r)
        let y = (r + 1).addingProduct(p, r * r)
        // 2^n in two halves so n in [-150, 128] neither wraps the exponent field nor loses subnormals.
        let n1 = ni &>> 1, n2 = ni &- n1
        let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: SIMD8<Float>.self)
        let s2 = unsafeBitCast((n2 &+ 127) &<< 23, to: SIMD8<Float>.self)
        return y * s1 * s2
    }

    /// 1 / (1 + e^-x) per lane; exact limits 0 and 1 far out, no overflow.
    @inline(__always)
    static func sigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> {
        1 / (1 + exp(-x))
    }

    /// tanh per lane, computed from e^{-2|x|} so it never overflows.
    @inline(__always)
    static func tanh(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let ax = x.replacing(with: -x, where: x .< 0)
        let e = exp(-2 * ax)
        let t = (1 - e) / (1 + e)
        return t.replacing(with: -t, where: x .< 0)
    }

    /// Lanes limited to `[lo, hi]`. Written with compare + blend because the standard library's
    /// `clamped` / `pointwiseMin` compile to out-of-line per-lane loops (10× slower here).
    @inline(__always)
    static func clamp(_ x: SIMD8<Float>, _ lo: Float, _ hi: Float) -> SIMD8<Float> {
        let l = SIMD8<Float>(repeating: lo), h = SIMD8<Float>(repeating: hi)
        return x.replacing(with: l, where: x .< l).replacing(with: h, where: x .> h)
    }

    /// Lane-wise maximum (compare + blend; see `clamp`).
    @inline(__always)
    static func max(_ a: SIMD8<Float>, _ b: SIMD8<Float>) -> SIMD8<Float> {
        a.replacing(with: b, where: b .> a)
    }
}
