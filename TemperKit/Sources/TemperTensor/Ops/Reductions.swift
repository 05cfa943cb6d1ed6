/// Sums, means and maxima along axes or over everything.
extension Tensor {
    /// Sum over `axes` (negative allowed); reduced axes stay as size 1 when `keepDims`.
    public func sum(axes: [Int], keepDims: Bool = false) -> Tensor {
        Tensor.checkFloat(self, self, "sum")
        let ax = Set(axes.map { normalizeAxis($0) })
        let kept = shape.enumerated().map { ax.contains($0.offset) ? 1 : $0.element }
        let inShape = shape
        let reduced = Broadcast.reduce(self, to: kept)
        // `reduce` returns its input unchanged when nothing is reduced; keep outputs distinct objects.
        let out = reduced === self ? copy() : reduced
        let recorded = record(out, "sum", [self]) { g in [g.reshape(kept).expand(inShape)] }
        if keepDims { return recorded }
        return recorded.reshape(shape.enumerated().filter { !ax.contains($0.offset) }.map(\.element))
    }

    /// Sum along one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor { sum(axes: [axis], keepDims: keepDims) }

    /// Sum of every element, as a 0-D tensor.
    public func sum() -> Tensor { sum(axes: Array(0..<rank)) }

    /// Mean over `axes`.
    public func mean(axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = Set(axes.map { normalizeAxis($0) }).reduce(1) { $0 * shape[$1] }
        return sum(axes: axes, keepDims: keepDims) * (1 / Float(max(n, 1)))
    }

    /// Mean along one axis.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor { mean(axes: [axis], keepDims: keepDims) }

    /// Mean of every element, as a 0-D tensor.
    public func mean() -> Tensor { mean(axes: Array(0..<rank)) }

    /// Maximum along `axis` (NumPy's `amax`; named so it does not shadow `Swift.max` inside
    /// `Tensor` extensions). The gradient flows to the first maximal element of each slice.
    public func amax(axis: Int, keepDims: Bool = false) -> Tensor {
        Tensor.checkFloat(self, self, "amax")
        let a = normalizeAxis(axis)
        precondition(shape[a] > 0, "amax along empty axis \(axis) of shape \(shape)")
        let x = contiguous()
        let len = shape[a], inner = shape[(a + 1)...].reduce(1, *), outer = shape[..<a].reduce(1, *)
        var kept = shape
        kept[a] = 1
        let out = Tensor(uninitializedShape: kept)
        let argmax = Tensor(uninitializedShape: kept, dtype: .int32)
        let px = UnsafePointer(x.floatPointer), po = out.floatPointer, pi = argmax.int32Pointer
        withExtendedLifetime(x) {
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = px[o * len * inner + i], at = 0
                    for j in 1..<max(len, 1) {
                        let v = px[(o * len + j) * inner + i]
                        if v > best || (best.isNaN == false && v.isNaN) { best = v; at = j }
                    }
                    po[o * inner + i] = best
                    pi[o * inner + i] = Int32(at)
                }
            }
        }
        let inShape = shape
        let recorded = record(out, "amax", [x]) { g in
            let gc = g.isContiguous ? g : g.copy()
            let gx = Tensor.zeros(inShape)
            let pg = gc.floatPointer, pd = gx.floatPointer, pi = argmax.int32Pointer
            withExtendedLifetime((gc, argmax)) {
                for o in 0..<outer {
                    for i in 0..<inner { pd[(o * len + Int(pi[o * inner + i])) * inner + i] = pg[o * inner + i] }
                }
            }
            return [gx]
        }
        if keepDims { return recorded }
        var dropped = shape
        dropped.remove(at: a)
        return recorded.reshape(dropped)
    }

    /// Maximum of every element, as a 0-D tensor.
    public func amax() -> Tensor { reshape([count]).amax(axis: 0) }
}

extension Tensor {
    /// The flat index of the first NaN or ±infinity in a float tensor (row-major), or nil when every
    /// element is finite. A SIMD scan (x·0 is NaN exactly for non-finite x), cheap enough to run on
    /// every weight at load.
    public func firstNonFiniteIndex() -> Int? {
        precondition(dtype == .float32, "firstNonFiniteIndex on a \(dtype) tensor")
        return withUnsafeBufferPointer { buffer -> Int? in
            guard let p = buffer.baseAddress else { return nil }
            let n = buffer.count, chunk = 4096
            var start = 0
            while start < n {
                let end = Swift.min(start + chunk, n)
                var acc = SIMD16<Float>(repeating: 0)
                var j = start
                while j + 16 <= end { acc += UnsafeRawPointer(p + j).loadUnaligned(as: SIMD16<Float>.self) * 0; j += 16 }
                var tail: Float = 0
                while j < end { tail += p[j] * 0; j += 1 }
                if acc.sum().isNaN || tail.isNaN {
                    return (start..<end).first { !p[$0].isFinite }
                }
                start = end
            }
            return nil
        }
    }
}
