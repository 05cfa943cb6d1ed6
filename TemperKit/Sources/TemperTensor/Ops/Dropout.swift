/// Inverted dropout with a reproducible mask.
extension Tensor {
    /// Zeroes each element with probability `p` and scales survivors by 1/(1−p). The mask comes from
    /// Philox blocks keyed by one draw from `rng`, so it is identical on any thread count and
    /// replays exactly from a saved generator state. Identity when `p == 0`.
    public func dropout(p: Float, rng: inout PhiloxRNG) -> Tensor {
        precondition(dtype == .float32, "dropout on a \(dtype) tensor")
        precondition(p >= 0 && p < 1, "dropout: p must be in [0, 1), got \(p)")
        if p == 0 { return self }
        let key = rng.next()
        let n = count
        let scale = SIMD8<Float>(repeating: 1 / (1 - p))
        let threshold = UInt32(min(Double(p) * 4_294_967_296.0, 4_294_967_295.0))
        let mask = Tensor(uninitializedShape: shape)
        let pm = mask.floatPointer
        Parallel.forRanges((n + 3) / 4, grain: ElementwiseKernels.grain / 4) { range in
            for block in range {
                let bits = PhiloxRNG.block(seed: key, counter: UInt64(block))
                for l in 0..<4 where block * 4 + l < n { pm[block * 4 + l] = bits[l] < threshold ? 0 : scale[0] }
            }
        }
        let x = contiguous()
        let out = ElementwiseKernels.binary(x, mask) { $0 * $1 }
        return record(out, "dropout", [x]) { g in [ElementwiseKernels.binary(g, mask) { $0 * $1 }] }
    }
}
