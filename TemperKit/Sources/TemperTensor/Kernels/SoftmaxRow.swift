/// One row of logits turned into log-probabilities in three vectorised passes — what a sampler
/// does to the vocabulary (49,152 floats at SmolLM2's size) for every row of every decode step,
/// where scalar `expf` alone cost about as much as the attention of all 30 layers.
///
/// Every pass reads eight lanes at a time; a tail shorter than eight is loaded into a vector
/// padded with a neutral value, so each element goes through the same arithmetic wherever it is.
public enum SoftmaxRow {
    typealias V = SIMD8<Float>

    /// Multiplies `x[0..<count]` by `factor` in place (the temperature) and returns the largest
    /// product (NaN ignored; −∞ for an empty or all-NaN row). Each product is the scalar one.
    public static func scale(_ x: UnsafeMutablePointer<Float>, count: Int, by factor: Float) -> Float {
        var best = V(repeating: -.infinity)
        let f = V(repeating: factor), raw = UnsafeMutableRawPointer(x)
        var i = 0
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) * f
            raw.storeBytes(of: v, toByteOffset: i * 4, as: V.self)
            best = best.replacing(with: v, where: v .> best)
            i += 8
        }
        var m = best.max()
        while i < count {
            x[i] *= factor
            if x[i] > m { m = x[i] }
            i += 1
        }
        return m
    }

    /// Σ e^(x[i] − shift) over `count` floats (`SIMDMath.exp`, within about 2 ulp of `expf`),
    /// accumulated in double per lane and then across lanes; with `out`, also writes each
    /// exponential there (top-p's histogram reads them).
    public static func exponentialSum(_ x: UnsafePointer<Float>, count: Int, shift: Float,
                                      into out: UnsafeMutablePointer<Float>?) -> Double {
        var sum = SIMD8<Double>()
        let s = V(repeating: shift), raw = UnsafeRawPointer(x)
        var i = 0
        while i + 8 <= count {
            let e = SIMDMath.exp(raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) - s)
            if let out { UnsafeMutableRawPointer(out).storeBytes(of: e, toByteOffset: i * 4, as: V.self) }
            sum += SIMD8<Double>(e)
            i += 8
        }
        if i < count {
            // e^(−∞ − shift) = 0 pads the tail.
            var v = V(repeating: -.infinity)
            for l in 0..<(count - i) { v[l] = x[i + l] }
            let e = SIMDMath.exp(v - s)
            for l in 0..<(count - i) {
                out?[i + l] = e[l]
                sum[l] += Double(e[l])
            }
        }
        return sum.sum()
    }

    /// Subtracts `value` from `x[0..<count]` in place (logits less log Z: log-probabilities).
    public static func subtract(_ value: Float, from x: UnsafeMutablePointer<Float>, count: Int) {
        let v = V(repeating: value), raw = UnsafeMutableRawPointer(x)
        var i = 0
        while i + 8 <= count {
            raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) - v, toByteOffset: i * 4, as: V.self)
            i += 8
        }
        while i < count { x[i] -= value; i += 1 }
    }

    /// The first index of the largest of `x[0..<count]` (count ≥ 1) — a greedy pick. NaN never wins
    /// (a scan from `x[0]` with `>` would stay on a leading NaN); every element NaN gives 0.
    public static func argmax(_ x: UnsafePointer<Float>, count: Int) -> Int {
        var best = V(repeating: -.infinity)
        let raw = UnsafeRawPointer(x)
        var i = 0
        while i + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: i * 4, as: V.self)
            best = best.replacing(with: v, where: v .> best)
            i += 8
        }
        var m = best.max()
        for j in i..<count where x[j] > m { m = x[j] }
        for j in 0..<count where x[j] == m { return j }
        return 0
    }
}
