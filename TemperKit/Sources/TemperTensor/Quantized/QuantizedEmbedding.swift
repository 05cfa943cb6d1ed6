extension Tensor {
    /// Rows of a frozen quantized table for int32 `ids` (`[...]` → `[..., dim]`): each lookup decodes
    /// one row of blocks. No gradient flows (the table is frozen and the ids are not differentiable).
    public static func embedding(ids: Tensor, weight: QuantizedMatrix) -> Tensor {
        precondition(ids.dtype == .int32, "embedding: ids must be int32, got \(ids.dtype)")
        let vocab = weight.rows, dim = weight.columns
        let idc = ids.isContiguous ? ids : ids.copy()
        let n = idc.count
        let pi = UnsafePointer(idc.int32Pointer)
        for i in 0..<n where pi[i] < 0 || Int(pi[i]) >= vocab {
            preconditionFailure("embedding: id \(pi[i]) at position \(i) is outside the vocabulary 0..<\(vocab)")
        }
        let out = Tensor(uninitializedShape: ids.shape + [dim])
        let po = out.floatPointer
        withExtendedLifetime(idc) {
            RowKernels.forRows(n, width: dim) { range in
                for i in range { weight.dequantizeRows(Int(pi[i])..<(Int(pi[i]) + 1), into: po + i * dim) }
            }
        }
        return out
    }
}
