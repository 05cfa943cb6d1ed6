/// Joining and splitting along an axis.
extension Tensor {
    /// The tensors joined along `axis`; all other axes must match. Backward hands each input its
    /// slice of the gradient.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat of no tensors")
        let first = tensors[0]
        let a = first.normalizeAxis(axis)
        for t in tensors {
            precondition(t.rank == first.rank && t.dtype == first.dtype, "concat: \(t.dtype) \(t.shape) does not match \(first.dtype) \(first.shape)")
            for d in 0..<t.rank where d != a {
                precondition(t.shape[d] == first.shape[d], "concat along axis \(axis): shape \(t.shape) does not match \(first.shape)")
            }
        }
        var shape = first.shape
        shape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let out = Tensor(uninitializedShape: shape, dtype: first.dtype)
        var starts: [Int] = []
        var at = 0
        withNoGrad {
            for t in tensors {
                starts.append(at)
                StridedCopy.copy(from: t, to: out.narrow(a, start: at, length: t.shape[a]))
                at += t.shape[a]
            }
        }
        let lengths = tensors.map { $0.shape[a] }
        return record(out, "concat", tensors) { g in
            zip(starts, lengths).map { g.narrow(a, start: $0, length: $1) }
        }
    }

    /// Views of consecutive pieces of `sizes` along `axis` (the sizes must add up to the axis).
    public func split(_ sizes: [Int], axis: Int) -> [Tensor] {
        let a = normalizeAxis(axis)
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[a],
                     "split: sizes \(sizes) do not add up to axis \(axis) of size \(shape[a])")
        var at = 0
        return sizes.map { n in
            defer { at += n }
            return narrow(a, start: at, length: n)
        }
    }

    /// `parts` equal views along `axis` (the axis must divide evenly).
    public func chunk(_ parts: Int, axis: Int) -> [Tensor] {
        let a = normalizeAxis(axis)
        precondition(parts > 0 && shape[a] % parts == 0, "chunk: axis \(axis) of size \(shape[a]) does not split into \(parts) equal parts")
        return split([Int](repeating: shape[a] / parts, count: parts), axis: a)
    }
}
