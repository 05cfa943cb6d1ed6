/// SIMD reductions over one contiguous row, shared by softmax, normalisation, attention and the
/// losses. All take raw pointers so the hot loops see no ARC traffic.
enum RowKernels {
    typealias V = SIMD8<Float>

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V { ElementwiseKernels.load(p) }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { ElementwiseKernels.store(v, p) }

    /// Largest element of `p[0..<n]` (-inf for n = 0).
    @inline(__always)
    static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = V(repeating: -.infinity)
        var j = 0
        while j + 8 <= n { m = SIMDMath.max(m, load(p + j)); j += 8 }
        var r = m.max()
        while j < n { r = Swift.max(r, p[j]); j += 1 }
        return r
    }

    /// Σ exp(p[j] - shift); with `out` non-nil also stores each exp(p[j] - shift) there.
    @inline(__always)
    static func sumExp(_ p: UnsafePointer<Float>, _ n: Int, shift: Float, out: UnsafeMutablePointer<Float>?) -> Float {
        let s = V(repeating: shift)
        var acc = V(repeating: 0)
        var j = 0
        while j + 8 <= n {
            let e = SIMDMath.exp(load(p + j) - s)
            if let out { store(e, out + j) }
            acc += e
            j += 8
        }
        var r = acc.sum()
        if j < n {
            let rem = n - j
            let e = SIMDMath.exp(ElementwiseKernels.loadPartial(p + j, rem) - s)
            for l in 0..<rem { r += e[l]; out?[j + l] = e[l] }
        }
        return r
    }

    /// Σ a[j]·b[j].
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc0 = V(repeating: 0), acc1 = V(repeating: 0)
        var j = 0
        while j + 16 <= n {
            acc0 = acc0.addingProduct(load(a + j), load(b + j))
            acc1 = acc1.addingProduct(load(a + j + 8), load(b + j + 8))
            j += 16
        }
        if j + 8 <= n { acc0 = acc0.addingProduct(load(a + j), load(b + j)); j += 8 }
        var r = (acc0 + acc1).sum()
        while j < n { r += a[j] * b[j]; j += 1 }
        return r
    }

    /// Σ p[j].
    @inline(__always)
    static func sum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
        var acc = V(repeating: 0)
        var j = 0
        while j + 8 <= n { acc += load(p + j); j += 8 }
        var r = acc.sum()
        while j < n { r += p[j]; j += 1 }
        return r
    }

    /// y[j] += a · x[j].
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
        let av = V(repeating: a)
        var j = 0
        while j + 8 <= n { store(load(y + j).addingProduct(av, load(x + j)), y + j); j += 8 }
        while j < n { y[j] += a * x[j]; j += 1 }
    }

    /// Runs `body(rowRange)` over `rows` rows of `width` elements, in parallel when large.
    @inline(__always)
    static func forRows(_ rows: Int, width: Int, _ body: (Range<Int>) -> Void) {
        Parallel.forRanges(rows, grain: Swift.max(1, ElementwiseKernels.grain / Swift.max(width, 1)), body)
    }

    /// Rows per block when per-row contributions to a shared vector (a norm weight's gradient) are
    /// summed: blocks are fixed by index, so the sum order — and result — is thread-count independent.
    static let blockRows = 32

    /// Σ over rows of `contribution(row, acc)`, where each call adds one row's `width`-vector into
    /// `acc`; blocks of rows run in parallel and are combined in a fixed order.
    static func columnSum(rows: Int, width: Int, _ contribution: (Int, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let blocks = (rows + blockRows - 1) / blockRows
        let partial = Tensor.zeros([Swift.max(blocks, 1), width])
        let pp = partial.floatPointer
        Parallel.forEach(blocks) { b in
            let acc = pp + b * width
            for r in (b * blockRows)..<Swift.min(rows, (b + 1) * blockRows) { contribution(r, acc) }
        }
        let out = Tensor.zeros([width])
        let po = out.floatPointer
        for b in 0..<blocks { axpy(1, pp + b * width, po, width) }
        return out
    }
}
