/// Selecting between tensors by a mask.
extension Tensor {
    /// `mask ? a : b` elementwise, all three broadcast together. `mask` is int32 or float32;
    /// non-zero selects `a`. Gradients flow to whichever side was selected.
    public static func `where`(_ mask: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.dtype == .float32 && b.dtype == .float32, "where: a and b must be float32, got \(a.dtype) and \(b.dtype)")
        let shape = Broadcast.shape(Broadcast.shape(mask.shape, a.shape), b.shape)
        let keep = MaskKernel.flags(mask, shape: shape)
        let ac = a.expand(shape).contiguous(), bc = b.expand(shape).contiguous()
        let out = ElementwiseKernels.ternary(keep, ac, bc) { m, x, y in y.replacing(with: x, where: m .!= 0) }
        return record(out, "where", [ac, bc]) { g in
            [ac.requiresGrad ? ElementwiseKernels.binary(keep, g) { m, g in SIMD8(repeating: 0).replacing(with: g, where: m .!= 0) } : nil,
             bc.requiresGrad ? ElementwiseKernels.binary(keep, g) { m, g in g.replacing(with: 0, where: m .!= 0) } : nil]
        }
    }

    /// This tensor with `value` wherever `mask` (broadcast to this shape) is non-zero; no gradient
    /// reaches the filled positions.
    public func maskedFill(_ mask: Tensor, _ value: Float) -> Tensor {
        precondition(dtype == .float32, "maskedFill on a \(dtype) tensor")
        let keep = MaskKernel.flags(mask, shape: shape)
        let x = contiguous()
        let v = SIMD8<Float>(repeating: value)
        let out = ElementwiseKernels.binary(keep, x) { m, x in x.replacing(with: v, where: m .!= 0) }
        return record(out, "maskedFill", [x]) { g in
            [ElementwiseKernels.binary(keep, g) { m, g in g.replacing(with: 0, where: m .!= 0) }]
        }
    }
}

enum MaskKernel {
    /// The mask broadcast to `shape` as a contiguous float tensor of 0 / 1.
    static func flags(_ mask: Tensor, shape: [Int]) -> Tensor {
        precondition(mask.dtype == .int32 || mask.dtype == .float32, "mask must be int32 or float32, got \(mask.dtype)")
        let expanded = Tensor(storage: mask.storage, shape: shape, strides: Broadcast.strides(of: mask, to: shape),
                              offset: mask.offset, dtype: mask.dtype)
        let src = expanded.copy()
        let out = Tensor(uninitializedShape: shape)
        let po = out.floatPointer
        withExtendedLifetime(src) {
            if src.dtype == .int32 {
                let ps = src.int32Pointer
                for i in 0..<src.count { po[i] = ps[i] != 0 ? 1 : 0 }
            } else {
                let ps = src.floatPointer
                for i in 0..<src.count { po[i] = ps[i] != 0 ? 1 : 0 }
            }
        }
        return out
    }
}
