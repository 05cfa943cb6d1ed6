/// Shape-changing ops. Each returns a view sharing storage where the layout allows (O(1), no copy)
/// and is differentiable: the gradient of a view is the matching view (or scatter) of the output
/// gradient.
extension Tensor {
    /// The same elements with a new shape; one entry may be -1 (inferred). A view when this tensor
    /// is contiguous, otherwise a contiguous copy first.
    public func reshape(_ newShape: [Int]) -> Tensor {
        var shp = newShape
        if let hole = shp.firstIndex(of: -1) {
            let known = shp.enumerated().filter { $0.offset != hole }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshape: cannot infer -1 in \(newShape) for \(count) elements")
            shp[hole] = count / known
        }
        precondition(shp.allSatisfy { $0 >= 0 } && shp.reduce(1, *) == count,
                     "reshape: shape \(newShape) does not hold \(count) elements (shape \(shape))")
        if shp == shape { return self }
        let src = contiguous()
        let out = Tensor(storage: src.storage, shape: shp, offset: src.offset, dtype: dtype)
        let inShape = shape
        return record(out, "reshape", [src]) { g in [g.reshape(inShape)] }
    }

    /// Collapses dimensions `start...end` into one (a view when contiguous).
    public func flatten(from start: Int = 0, through end: Int = -1) -> Tensor {
        if rank == 0 { return reshape([1]) }
        let s = normalizeAxis(start), e = normalizeAxis(end)
        precondition(s <= e, "flatten: start axis \(start) after end axis \(end)")
        let merged = shape[s...e].reduce(1, *)
        return reshape(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Swaps two axes (a view; no data moves).
    public func transpose(_ a: Int, _ b: Int) -> Tensor {
        let x = normalizeAxis(a), y = normalizeAxis(b)
        if x == y { return self }
        var shp = shape, st = strides
        shp.swapAt(x, y); st.swapAt(x, y)
        let out = Tensor(storage: storage, shape: shp, strides: st, offset: offset, dtype: dtype)
        return record(out, "transpose", [self]) { g in [g.transpose(x, y)] }
    }

    /// The transpose of the last two axes (a view). `x.matmul(w.transposed())` reads `w` in place.
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transposed() needs rank ≥ 2, got shape \(shape)")
        return transpose(-2, -1)
    }

    /// Reorders axes: output axis `i` is input axis `dims[i]` (a view).
    public func permute(_ dims: [Int]) -> Tensor {
        precondition(dims.count == rank && Set(dims.map { normalizeAxis($0) }).count == rank,
                     "permute: \(dims) is not a permutation of \(rank) axes")
        let d = dims.map { normalizeAxis($0) }
        let out = Tensor(storage: storage, shape: d.map { shape[$0] }, strides: d.map { strides[$0] },
                         offset: offset, dtype: dtype)
        var inverse = [Int](repeating: 0, count: rank)
        for (i, a) in d.enumerated() { inverse[a] = i }
        return record(out, "permute", [self]) { g in [g.permute(inverse)] }
    }

    /// Elements `start..<start+length` along `axis` (a view).
    public func narrow(_ axis: Int, start: Int, length: Int) -> Tensor {
        let a = normalizeAxis(axis)
        precondition(start >= 0 && length >= 0 && start + length <= shape[a],
                     "narrow: range \(start)..<\(start + length) outside axis \(axis) of size \(shape[a])")
        if start == 0 && length == shape[a] { return self }
        var shp = shape
        shp[a] = length
        let out = Tensor(storage: storage, shape: shp, strides: strides, offset: offset + start * strides[a], dtype: dtype)
        let inShape = shape
        return record(out, "narrow", [self]) { g in
            let full = Tensor.zeros(inShape)
            StridedCopy.copy(from: g, to: full.narrow(a, start: start, length: length))
            return [full]
        }
    }

    /// Elements in `range` along `axis` (a view); same as `narrow`.
    public func slice(_ axis: Int, _ range: Range<Int>) -> Tensor {
        narrow(axis, start: range.lowerBound, length: range.count)
    }

    /// A view that repeats size-1 axes (and new leading axes) to `newShape` without copying.
    public func expand(_ newShape: [Int]) -> Tensor {
        if newShape == shape { return self }
        let st = Broadcast.strides(of: self, to: newShape)
        let out = Tensor(storage: storage, shape: newShape, strides: st, offset: offset, dtype: dtype)
        let inShape = shape
        return record(out, "expand", [self]) { g in [Broadcast.reduce(g, to: inShape)] }
    }

    /// Inserts a size-1 axis at `axis` (which may equal `rank`, or be negative) (a view).
    public func unsqueeze(_ axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        precondition(a >= 0 && a <= rank, "unsqueeze: axis \(axis) out of range for rank \(rank)")
        var shp = shape, st = strides
        shp.insert(1, at: a)
        st.insert(a < rank ? strides[a] * shape[a] : 1, at: a)
        let out = Tensor(storage: storage, shape: shp, strides: st, offset: offset, dtype: dtype)
        return record(out, "unsqueeze", [self]) { g in [g.squeeze(a)] }
    }

    /// Removes axis `axis`, which must have size 1 (a view).
    public func squeeze(_ axis: Int) -> Tensor {
        let a = normalizeAxis(axis)
        precondition(shape[a] == 1, "squeeze: axis \(axis) has size \(shape[a]), not 1")
        var shp = shape, st = strides
        shp.remove(at: a); st.remove(at: a)
        let out = Tensor(storage: storage, shape: shp, strides: st, offset: offset, dtype: dtype)
        return record(out, "squeeze", [self]) { g in [g.unsqueeze(a)] }
    }

    /// Removes every size-1 axis (a view).
    public func squeeze() -> Tensor {
        var t = self
        for a in stride(from: rank - 1, through: 0, by: -1) where shape[a] == 1 { t = t.squeeze(a) }
        return t
    }
}
