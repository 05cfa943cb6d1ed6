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

extension Tensor {
    /// `base + self · weightᵀ` (`weight` `[out, in]`, `base` shaped like the product), bit for bit.
    /// With gradients off and at most `SmallBatchGEMM.maxRows` rows (a decode step's LoRA up
    /// projection onto its layer's output) the product is added into `base`'s buffer by the GEMM's
    /// `beta = 1` epilogue, which rounds `s + y` as the separate addition does: no product buffer,
    /// no second pass. `base` must be a result nobody else holds (the caller's own fresh product);
    /// otherwise, and for any other shape or layout, it is `base + linear(weight)`. Package-only:
    /// it writes into its argument, which a library user could not see from the call.
    package func linear(_ weight: Tensor, addedTo base: Tensor) -> Tensor {
        let inF = shape.last ?? 0
        let rows = count / max(inF, 1)
        guard !GradMode.isEnabled, weight.rank == 2, weight.shape[1] == inF, weight.dtype == .float32, dtype == .float32,
              base.dtype == .float32, base.isContiguous, base.shape == Array(shape.dropLast()) + [weight.shape[0]],
              SharedInputProducts.accepts(rows: rows) else { return base + linear(weight) }
        let x = contiguous(), w = weight.contiguous()
        withExtendedLifetime((x, w, base)) {
            GEMM.sgemm(transA: false, transB: true, m: rows, n: weight.shape[0], k: inF, alpha: 1, a: x.floatPointer, lda: inF,
                       b: w.floatPointer, ldb: inF, beta: 1, c: base.floatPointer, ldc: weight.shape[0])
        }
        return base
    }
}
