/// Token embedding lookup: rows of a `[vocab, dim]` table gathered by int32 ids.
extension Tensor {
    /// `weight[ids]`: output shape `ids.shape + [dim]`. Backward scatter-adds each output row's
    /// gradient into the id's row (repeated ids accumulate), so only `weight` gets a gradient.
    public static func embedding(ids: Tensor, weight: Tensor) -> Tensor {
        precondition(ids.dtype == .int32, "embedding: ids must be int32, got \(ids.dtype)")
        precondition(weight.dtype == .float32 && weight.rank == 2, "embedding: weight must be a float32 [vocab, dim] matrix, got \(weight.dtype) \(weight.shape)")
        let vocab = weight.shape[0], dim = weight.shape[1]
        let idc = ids.isContiguous ? ids : ids.copy()
        let w = weight.contiguous()
        let n = idc.count
        let pi = UnsafePointer(idc.int32Pointer)
        for i in 0..<n where pi[i] < 0 || Int(pi[i]) >= vocab {
            preconditionFailure("embedding: id \(pi[i]) at position \(i) is outside the vocabulary 0..<\(vocab)")
        }
        let out = Tensor(uninitializedShape: ids.shape + [dim])
        let pw = UnsafePointer(w.floatPointer), po = out.floatPointer
        withExtendedLifetime((idc, w)) {
            RowKernels.forRows(n, width: dim) { range in
                for i in range { (po + i * dim).update(from: pw + Int(pi[i]) * dim, count: dim) }
            }
        }
        return record(out, "embedding", [w]) { g in
            let gc = g.isContiguous ? g : g.copy()
            let gw = Tensor.zeros([vocab, dim])
            let pg = UnsafePointer(gc.floatPointer), pd = gw.floatPointer, pi = UnsafePointer(idc.int32Pointer)
            // Serial on purpose: repeated ids make rows collide, and a fixed order keeps it deterministic.
            withExtendedLifetime((gc, idc)) {
                for i in 0..<n { RowKernels.axpy(1, pg + i * dim, pd + Int(pi[i]) * dim, dim) }
            }
            return [gw]
        }
    }
}
