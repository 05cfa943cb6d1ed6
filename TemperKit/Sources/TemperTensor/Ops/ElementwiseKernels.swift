/// Pointer-level loops shared by the elementwise ops: SIMD8 bodies over flat or broadcast-strided
/// operands, parallel above `grain` elements. Work is split by index, so results never depend on
/// the thread count.
enum ElementwiseKernels {
    /// Elements below which a loop stays on the calling thread.
    static let grain = 1 << 15

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// Loads `count` (< 8) elements, zero-padding the other lanes.
    @inline(__always) static func loadPartial(_ p: UnsafePointer<Float>, _ count: Int) -> SIMD8<Float> {
        var v = SIMD8<Float>(repeating: 0)
        for l in 0..<count { v[l] = p[l] }
        return v
    }

    @inline(__always) static func storePartial(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
        for l in 0..<count { p[l] = v[l] }
    }

    /// `out[i] = f(x[i])` for `i < n`.
    @inline(__always)
    static func map(_ n: Int, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                    _ f: (SIMD8<Float>) -> SIMD8<Float>) {
        Parallel.forRanges(n, grain: grain) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound { store(f(load(x + i)), out + i); i += 8 }
            if i < r.upperBound { storePartial(f(loadPartial(x + i, r.upperBound - i)), out + i, r.upperBound - i) }
        }
    }

    /// `out[i] = f(x[i], y[i])` for `i < n`.
    @inline(__always)
    static func map(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                    _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) {
        Parallel.forRanges(n, grain: grain) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound { store(f(load(x + i), load(y + i)), out + i); i += 8 }
            let rem = r.upperBound - i
            if rem > 0 { storePartial(f(loadPartial(x + i, rem), loadPartial(y + i, rem)), out + i, rem) }
        }
    }

    /// `out[i] = f(x[i], y[i], z[i])` for `i < n`.
    @inline(__always)
    static func map(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ z: UnsafePointer<Float>,
                    _ out: UnsafeMutablePointer<Float>,
                    _ f: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) {
        Parallel.forRanges(n, grain: grain) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound { store(f(load(x + i), load(y + i), load(z + i)), out + i); i += 8 }
            let rem = r.upperBound - i
            if rem > 0 {
                storePartial(f(loadPartial(x + i, rem), loadPartial(y + i, rem), loadPartial(z + i, rem)), out + i, rem)
            }
        }
    }

    /// A new contiguous tensor `f(x)`; `x` is made contiguous first (unrecorded: callers record).
    @inline(__always)
    static func unary(_ x: Tensor, _ f: (SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
        let xc = x.isContiguous ? x : x.copy()
        let out = Tensor(uninitializedShape: x.shape)
        withExtendedLifetime(xc) { map(x.count, xc.floatPointer, out.floatPointer, f) }
        return out
    }

    /// A new contiguous tensor `f(x, y)` for same-shaped `x`, `y`.
    @inline(__always)
    static func binary(_ x: Tensor, _ y: Tensor, _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
        precondition(x.shape == y.shape, "elementwise shapes differ: \(x.shape) vs \(y.shape)")
        let xc = x.isContiguous ? x : x.copy(), yc = y.isContiguous ? y : y.copy()
        let out = Tensor(uninitializedShape: x.shape)
        withExtendedLifetime((xc, yc)) { map(x.count, xc.floatPointer, yc.floatPointer, out.floatPointer, f) }
        return out
    }

    /// A new contiguous tensor `f(x, y, z)` for same-shaped operands.
    @inline(__always)
    static func ternary(_ x: Tensor, _ y: Tensor, _ z: Tensor,
                        _ f: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
        precondition(x.shape == y.shape && y.shape == z.shape, "elementwise shapes differ: \(x.shape), \(y.shape), \(z.shape)")
        let xc = x.isContiguous ? x : x.copy(), yc = y.isContiguous ? y : y.copy(), zc = z.isContiguous ? z : z.copy()
        let out = Tensor(uninitializedShape: x.shape)
        withExtendedLifetime((xc, yc, zc)) {
            map(x.count, xc.floatPointer, yc.floatPointer, zc.floatPointer, out.floatPointer, f)
        }
        return out
    }

    /// `f(a, b)` with NumPy broadcasting, into a new contiguous tensor of the broadcast shape.
    static func broadcastBinary(_ a: Tensor, _ b: Tensor, _ f: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
        if a.shape == b.shape { return binary(a, b, f) }
        let shape = Broadcast.shape(a.shape, b.shape)
        let out = Tensor(uninitializedShape: shape)
        let n = out.count
        if n == 0 { return out }
        let layout = Broadcast.collapse(shape: shape, strides: [Broadcast.strides(of: a, to: shape),
                                                               Broadcast.strides(of: b, to: shape),
                                                               Tensor.contiguousStrides(shape)])
        let dims = layout.shape, sa = layout.strides[0], sb = layout.strides[1], so = layout.strides[2]
        let last = dims.count - 1
        let inner = dims[last], ia = sa[last], ib = sb[last]
        let rows = n / inner
        let pa = UnsafePointer(a.floatPointer), pb = UnsafePointer(b.floatPointer), po = out.floatPointer
        withExtendedLifetime((a, b)) {
            Parallel.forRanges(rows, grain: max(1, grain / max(inner, 1))) { range in
                for row in range {
                    var rem = row, oa = 0, ob = 0, oo = 0
                    var d = last - 1
                    while d >= 0 { let q = rem % dims[d]; rem /= dims[d]; oa += q * sa[d]; ob += q * sb[d]; oo += q * so[d]; d -= 1 }
                    let x = pa + oa, y = pb + ob, z = po + oo
                    var j = 0
                    if ia == 1 && ib == 1 {
                        while j + 8 <= inner { store(f(load(x + j), load(y + j)), z + j); j += 8 }
                    } else if ia == 1 && ib == 0 {
                        let yv = SIMD8<Float>(repeating: y[0])
                        while j + 8 <= inner { store(f(load(x + j), yv), z + j); j += 8 }
                    } else if ia == 0 && ib == 1 {
                        let xv = SIMD8<Float>(repeating: x[0])
                        while j + 8 <= inner { store(f(xv, load(y + j)), z + j); j += 8 }
                    }
                    while j < inner {
                        z[j] = f(SIMD8(repeating: x[j * ia]), SIMD8(repeating: y[j * ib]))[0]
                        j += 1
                    }
                }
            }
        }
        return out
    }
}

/// NumPy broadcasting rules and the reduction that undoes a broadcast in backward.
enum Broadcast {
    /// The broadcast shape of two shapes (right-aligned; each pair equal or one of them 1).
    static func shape(_ a: [Int], _ b: [Int]) -> [Int] {
        let r = max(a.count, b.count)
        var out = [Int](repeating: 1, count: r)
        for i in 0..<r {
            let x = i < r - a.count ? 1 : a[i - (r - a.count)]
            let y = i < r - b.count ? 1 : b[i - (r - b.count)]
            precondition(x == y || x == 1 || y == 1, "shapes \(a) and \(b) cannot be broadcast together")
            out[i] = x == 1 ? y : x
        }
        return out
    }

    /// Strides that read `t` as if it had `shape` (0 along broadcast dimensions).
    static func strides(of t: Tensor, to shape: [Int]) -> [Int] {
        let pad = shape.count - t.rank
        precondition(pad >= 0, "cannot broadcast shape \(t.shape) to \(shape)")
        var s = [Int](repeating: 0, count: shape.count)
        for i in 0..<t.rank {
            let d = t.shape[i]
            precondition(d == shape[pad + i] || d == 1, "cannot broadcast shape \(t.shape) to \(shape)")
            s[pad + i] = d == 1 && shape[pad + i] != 1 ? 0 : t.strides[i]
        }
        return s
    }

    /// Drops size-1 dimensions and merges neighbours that are contiguous for every operand, so the
    /// innermost loop is as long as possible. Always returns at least one dimension.
    static func collapse(shape: [Int], strides: [[Int]]) -> (shape: [Int], strides: [[Int]]) {
        var dims: [Int] = []
        var ss: [[Int]] = strides.map { _ in [] }
        for i in 0..<shape.count where shape[i] != 1 {
            dims.append(shape[i])
            for k in 0..<strides.count { ss[k].append(strides[k][i]) }
        }
        // Merge from the right: dimension d folds into d+1 when stride[d] == stride[d+1] * size[d+1].
        var d = dims.count - 2
        while d >= 0 {
            var ok = true
            for k in 0..<ss.count where ss[k][d] != ss[k][d + 1] * dims[d + 1] { ok = false; break }
            if ok {
                dims[d + 1] *= dims[d]
                dims.remove(at: d)
                for k in 0..<ss.count { ss[k].remove(at: d) }
            }
            d -= 1
        }
        if dims.isEmpty { return ([1], strides.map { _ in [0] }) }
        return (dims, ss)
    }

    /// Sums `g` over the dimensions that broadcasting expanded, giving a contiguous tensor of `shape`.
    /// Returns `g` itself when no reduction is needed.
    static func reduce(_ g: Tensor, to shape: [Int]) -> Tensor {
        if g.shape == shape { return g }
        let gc = g.isContiguous ? g : g.copy()
        let out = Tensor.zeros(shape)
        let view = Tensor(storage: out.storage, shape: shape, dtype: .float32)
        let layout = collapse(shape: gc.shape, strides: [strides(of: view, to: gc.shape), gc.strides])
        let dims = layout.shape, so = layout.strides[0], sg = layout.strides[1]
        let last = dims.count - 1
        let inner = dims[last], io = so[last], ig = sg[last]
        let rows = gc.count / max(inner, 1)
        if gc.count == 0 { return out }
        let pg = UnsafePointer(gc.floatPointer), po = out.floatPointer
        withExtendedLifetime(gc) {
            var index = [Int](repeating: 0, count: dims.count)
            for _ in 0..<rows {
                var oo = 0, og = 0
                for k in 0..<last { oo += index[k] * so[k]; og += index[k] * sg[k] }
                let x = pg + og, z = po + oo
                if io == 1 && ig == 1 {
                    var j = 0
                    while j + 8 <= inner { ElementwiseKernels.store(ElementwiseKernels.load(z + j) + ElementwiseKernels.load(x + j), z + j); j += 8 }
                    while j < inner { z[j] += x[j]; j += 1 }
                } else if io == 0 && ig == 1 {
                    var acc = SIMD8<Float>(repeating: 0)
                    var j = 0
                    while j + 8 <= inner { acc += ElementwiseKernels.load(x + j); j += 8 }
                    var s = acc.sum()
                    while j < inner { s += x[j]; j += 1 }
                    z[0] += s
                } else {
                    for j in 0..<inner { z[j * io] += x[j * ig] }
                }
                var k = last - 1
                while k >= 0 { index[k] += 1; if index[k] < dims[k] { break }; index[k] = 0; k -= 1 }
            }
        }
        return out
    }
}
