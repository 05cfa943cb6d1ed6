extension Tensor {
    /// `self · Wᵢᵀ` for each of `weights` (`[outᵢ, in]`), `self` `[..., in]`: the same results as
    /// `weights.map { linear($0) }`, bit for bit. With gradients off and at most
    /// `SmallBatchGEMM.maxRows` input rows (a decode step) the products share one pass of the
    /// worker threads (`SharedInputProducts`); otherwise each is an ordinary recorded `linear`.
    public func linears(_ weights: [Tensor]) -> [Tensor] {
        let inF = shape.last ?? 0
        let rows = count / max(inF, 1)
        let plain = weights.allSatisfy { $0.rank == 2 && $0.shape[1] == inF && $0.dtype == .float32 && $0.isContiguous }
        guard !GradMode.isEnabled, plain, dtype == .float32, SharedInputProducts.accepts(rows: rows) else {
            return weights.map { linear($0) }
        }
        let x = contiguous()
        let outs = weights.map { Tensor(uninitializedShape: Array(shape.dropLast()) + [$0.shape[0]]) }
        withExtendedLifetime((x, weights, outs)) {
            SharedInputProducts.run(m: rows, k: inF, x: x.floatPointer,
                                    zip(weights, outs).map { .init(weight: $0.floatPointer, n: $0.shape[0], output: $1.floatPointer) })
        }
        return outs
    }
}
