import Foundation

/// What `Tensor.linearCrossEntropy` returns: the loss and each counted token's greedy prediction
/// (for TRL's `mean_token_accuracy`), since the logits themselves are never kept.
public struct LinearCrossEntropyResult {
    /// The loss, reduced as asked: a scalar for `.mean` / `.sum`, shaped like the targets for
    /// `.none`. Recorded by autograd.
    public let loss: Tensor
    /// int32, shaped like the targets: the highest-scoring vocabulary entry of each token with a
    /// non-zero weight (the first of equal ones, as `argmax`), and −1 at tokens that carry no weight
    /// (ignored), whose logits are not computed at all.
    public let predictions: Tensor
}

/// Cross-entropy fused with the linear layer that makes the logits (the LM head), computed a chunk
/// of rows at a time so that the `[N, V]` logits and their gradient never exist in full: for
/// SmolLM2's vocabulary of 49,152 and a batch of 8 × 128 that is 201 MB each, where one chunk is
/// about 32 MB. The idea is the chunked "cut cross-entropy" / Liger-Kernel fused linear
/// cross-entropy; the code is ours.
extension Tensor {
    /// Cross-entropy of the logits `hidden · weightᵀ` against int32 `targets`, with the semantics of
    /// `crossEntropy(logits: hidden.linear(weight), ...)`: tokens whose target is `ignoreIndex`
    /// count for nothing, `weights` (float32, shaped like `targets`) scale each token's loss, and
    /// `reduction` combines them (a weighted mean by default).
    ///
    /// - `hidden`: float32 `[..., d]` (the final-norm hidden states); `weight`: float32 `[V, d]`
    ///   (the head, e.g. a tied embedding); `targets`: int32 `hidden.shape` without its last axis.
    /// - `chunkRows`: how many token rows' logits are held at once (default: about 32 MB of them).
    ///
    /// Only tokens with a non-zero weight get logits. Per chunk of them, with x = h·Wᵀ:
    ///   loss_i = w_i · (log Σ_j exp x_ij − x_i,t_i),
    ///   ∂loss/∂x_i = c_i · (softmax(x_i) − onehot(t_i)), c_i = w_i (÷ Σ w for the mean),
    ///   dH_i = ∂x_i · W and dW += ∂x_iᵀ · h_i (dW only when `weight` requires grad).
    /// With `.mean` or `.sum` the output gradient is a single number, so when a gradient is wanted
    /// these products are made in the forward pass while the chunk's logits are at hand, and
    /// backward only scales them: one `[N, d] × [d, V]` product fewer than recomputing the logits
    /// in backward (a third of the head's work under LoRA, a quarter in full fine-tuning). With `.none`
    /// each token's output gradient is known only in backward, which then recomputes each chunk's
    /// logits from the kept log-sum-exps.
    public static func linearCrossEntropy(hidden: Tensor, weight: Tensor, targets: Tensor, ignoreIndex: Int32 = -100,
                                          weights: Tensor? = nil, reduction: LossReduction = .mean,
                                          chunkRows: Int? = nil) -> LinearCrossEntropyResult {
        let op = "linearCrossEntropy"
        precondition(hidden.dtype == .float32 && hidden.rank >= 1, "\(op): hidden states must be float32 [..., d], got \(hidden.dtype) \(hidden.shape)")
        let dim = hidden.shape[hidden.rank - 1]
        precondition(weight.dtype == .float32 && weight.rank == 2 && weight.shape[1] == dim && weight.shape[0] > 0,
                     "\(op): weight must be float32 [V, \(dim)] with V > 0, got \(weight.dtype) \(weight.shape)")
        precondition(targets.dtype == .int32, "\(op): token ids must be int32, got \(targets.dtype)")
        precondition(targets.shape == Array(hidden.shape.dropLast()),
                     "\(op): targets shape \(targets.shape) must equal hidden states shape \(hidden.shape) without its last axis")
        precondition(chunkRows.map { $0 > 0 } ?? true, "\(op): chunkRows must be positive, got \(chunkRows ?? 0)")
        let vocab = weight.shape[0], rows = targets.count
        let (tc, tokenWeight) = TokenLoss.tokenWeights(targets, weights, vocab: vocab, ignoreIndex: ignoreIndex, op: op)
        let h = hidden.contiguous(), w = weight.contiguous()

        // The counted rows, gathered into one contiguous block: their logits are all that is needed.
        let active = (0..<rows).filter { tokenWeight[$0] != 0 }
        let n = active.count
        let ids = tc.int32Values
        let activeTargets = active.map { ids[$0] }
        let hA = Tensor(uninitializedShape: [n, dim])
        withExtendedLifetime(h) {
            let src = UnsafePointer(h.floatPointer), dst = hA.floatPointer
            for (i, r) in active.enumerated() { (dst + i * dim).update(from: src + r * dim, count: dim) }
        }
        let denominator = tokenWeight.reduce(0.0) { $0 + Double($1) }
        let gradScale: Float = reduction == .mean ? (denominator == 0 ? 0 : Float(1 / denominator)) : 1
        let eager = reduction != .none && GradMode.isEnabled && (h.requiresGrad || w.requiresGrad)

        let pass = LinearCrossEntropyPass(hidden: hA, weight: w, targets: activeTargets, vocab: vocab,
                                          chunkRows: chunkRows ?? LinearCrossEntropyPass.defaultChunkRows(vocab: vocab))
        let dHA = eager && h.requiresGrad ? Tensor(uninitializedShape: [n, dim]) : nil
        let dW = eager && w.requiresGrad ? Tensor(uninitializedShape: [vocab, dim]) : nil
        let stats = pass.forward(coefficients: eager ? active.map { gradScale * tokenWeight[$0] } : nil, dHidden: dHA, dWeight: dW)

        // Σ in row order, as `crossEntropy` sums, so both give the same loss from the same logits.
        var total = 0.0
        let perToken = Tensor.zeros(targets.shape)
        let predictions = Tensor(shape: targets.shape, int32: [Int32](repeating: -1, count: rows))
        let pp = perToken.floatPointer, pr = predictions.int32Pointer
        for (i, r) in active.enumerated() {
            let loss = tokenWeight[r] * stats.loss[i]
            pp[r] = loss
            pr[r] = stats.argmax[i]
            total += Double(loss)
        }
        let out: Tensor
        switch reduction {
        case .none: out = perToken
        case .sum: out = Tensor(scalar: Float(total))
        case .mean: out = Tensor(scalar: denominator == 0 ? 0 : Float(total / denominator))
        }
        let hShape = h.shape, hNeedsGrad = h.requiresGrad, wNeedsGrad = w.requiresGrad
        let loss = record(out, op, [h, w]) { g in
            if reduction != .none {
                // Made in forward (`record` only keeps this closure when a gradient is wanted, which
                // is exactly when `eager` held); the output gradient is one number.
                let s = g.contiguous().item
                for t in [dHA, dW].compactMap({ $0 }) where s != 1 { LinearCrossEntropyPass.scale(t, by: s) }
                return [dHA.map { LinearCrossEntropyPass.scatter($0, rows: active, into: hShape) }, dW]
            }
            let gc = g.contiguous()
            let c = withExtendedLifetime(gc) { active.map { gc.floatPointer[$0] * tokenWeight[$0] } }
            let dh = hNeedsGrad ? Tensor(uninitializedShape: [n, dim]) : nil
            let dw = wNeedsGrad ? Tensor(uninitializedShape: [vocab, dim]) : nil
            pass.backward(logSumExp: stats.logSumExp, coefficients: c, dHidden: dh, dWeight: dw)
            return [dh.map { LinearCrossEntropyPass.scatter($0, rows: active, into: hShape) }, dw]
        }
        return LinearCrossEntropyResult(loss: loss, predictions: predictions)
    }
}

/// The row-chunked products behind `Tensor.linearCrossEntropy`, over the counted rows only.
struct LinearCrossEntropyPass {
    /// The counted rows' hidden states, `[n, d]`, contiguous.
    let hidden: Tensor
    /// The head, `[V, d]`, contiguous.
    let weight: Tensor
    /// Each row's target, in `0..<V`.
    let targets: [Int32]
    let vocab: Int
    /// Rows whose logits are held at once.
    let chunkRows: Int

    /// About 32 MB of logits per chunk: large enough that the products stay efficient (and the
    /// weight gradient's `[V, d]` is read and written only N / chunk times), small next to the
    /// 201 MB of full logits it replaces for SmolLM2 at 8 × 128.
    static func defaultChunkRows(vocab: Int) -> Int { Swift.max(1, (1 << 23) / Swift.max(vocab, 1)) }

    /// What the forward pass learns about each row.
    struct Statistics {
        /// (max, log Σ exp(x − max)) per row, `[2n]`, kept apart as `TokenLoss.logSumExp` keeps them.
        var logSumExp: [Float]
        /// log Σ_j exp x_j − x_t per row (unweighted).
        var loss: [Float]
        /// The first index of each row's largest logit.
        var argmax: [Int32]
    }

    /// Each row's statistics; with `coefficients` (c_i per row) also dHidden = ∂x·W and
    /// dWeight = Σ ∂xᵀ·h for ∂x_i = c_i·(softmax(x_i) − onehot(t_i)), where those tensors are given.
    func forward(coefficients: [Float]?, dHidden: Tensor?, dWeight: Tensor?) -> Statistics {
        let n = targets.count
        var lse = [Float](repeating: 0, count: 2 * n), loss = [Float](repeating: 0, count: n)
        var argmax = [Int32](repeating: 0, count: n)
        lse.withUnsafeMutableBufferPointer { l in
            loss.withUnsafeMutableBufferPointer { o in
                argmax.withUnsafeMutableBufferPointer { a in
                    Self.withPointer(coefficients) { c in
                        chunks(logSumExp: l.baseAddress, statistics: (o.baseAddress, a.baseAddress), coefficients: c,
                               dHidden: dHidden, dWeight: dWeight)
                    }
                }
            }
        }
        return Statistics(logSumExp: lse, loss: loss, argmax: argmax)
    }

    /// The gradient products alone, recomputing each chunk's logits and reusing the forward's
    /// log-sum-exps.
    func backward(logSumExp: [Float], coefficients: [Float], dHidden: Tensor?, dWeight: Tensor?) {
        var lse = logSumExp
        lse.withUnsafeMutableBufferPointer { l in
            Self.withPointer(coefficients) { c in
                chunks(logSumExp: l.baseAddress, statistics: nil, coefficients: c, dHidden: dHidden, dWeight: dWeight)
            }
        }
    }

    /// One pass over the rows, a chunk at a time: logits = h·Wᵀ into one reused buffer; then per row
    /// the statistics (when asked for) and the gradient of the logits in place (when `coefficients`
    /// are given), then the chunk's two gradient products.
    private func chunks(logSumExp lse: UnsafeMutablePointer<Float>?, statistics: (UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Int32>?)?,
                        coefficients pc: UnsafePointer<Float>?, dHidden: Tensor?, dWeight: Tensor?) {
        let n = targets.count, dim = hidden.shape[1], vocab = vocab
        guard n > 0, let lse else {
            if let dWeight { MatMulKernel.memsetZero(dWeight) }
            return
        }
        // Equal chunks: a short last chunk would take a different (small-batch) GEMM path.
        let count = (n + chunkRows - 1) / chunkRows
        let size = (n + count - 1) / count
        let buffer = Tensor(uninitializedShape: [size, vocab])
        withExtendedLifetime((hidden, weight, buffer, dHidden, dWeight)) {
            targets.withUnsafeBufferPointer { tp in
                let ph = UnsafePointer(hidden.floatPointer), pw = UnsafePointer(weight.floatPointer), x = buffer.floatPointer
                for start in stride(from: 0, to: n, by: size) {
                    let m = Swift.min(size, n - start)
                    GEMM.sgemm(transA: false, transB: true, m: m, n: vocab, k: dim, alpha: 1, a: ph + start * dim, lda: dim,
                               b: pw, ldb: dim, beta: 0, c: x, ldc: vocab)
                    RowKernels.forRows(m, width: vocab) { range in
                        for i in range {
                            let r = start + i, row = x + i * vocab, t = Int(tp[r])
                            if case let (loss, argmax)? = statistics {
                                let mx = RowKernels.max(row, vocab)
                                let ls = Foundation.logf(RowKernels.sumExp(row, vocab, shift: mx, out: nil))
                                lse[2 * r] = mx
                                lse[2 * r + 1] = ls
                                // (max − x_t) + log Σ, in this order, as `crossEntropy` adds them.
                                loss?[r] = (mx - row[t]) + ls
                                argmax?[r] = Int32(SoftmaxRow.argmax(row, count: vocab))
                            }
                            if let pc {
                                TokenLoss.softmaxMinusOneHotRow(row, into: row, vocab: vocab, max: lse[2 * r], logSum: lse[2 * r + 1],
                                                                coefficient: pc[r], index: t)
                            }
                        }
                    }
                    guard pc != nil else { continue }
                    if let dHidden {
                        GEMMProfiler.withRole(.inputGradient) {
                            GEMM.sgemm(transA: false, transB: false, m: m, n: dim, k: vocab, alpha: 1, a: x, lda: vocab,
                                       b: pw, ldb: dim, beta: 0, c: dHidden.floatPointer + start * dim, ldc: dim)
                        }
                    }
                    if let dWeight {
                        GEMMProfiler.withRole(.weightGradient) {
                            GEMM.sgemm(transA: true, transB: false, m: vocab, n: dim, k: m, alpha: 1, a: x, lda: vocab,
                                       b: ph + start * dim, ldb: dim, beta: start == 0 ? 0 : 1, c: dWeight.floatPointer, ldc: dim)
                        }
                    }
                }
            }
        }
    }

    /// `body` with a pointer to `values`' elements, nil when there are none.
    private static func withPointer<R>(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let values else { return body(nil) }
        return values.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    /// t ×= s in place: the forward's gradients are this op's own buffers, and a second `[V, d]`
    /// (113 MB for SmolLM2) only to scale the first would undo part of the saving.
    static func scale(_ t: Tensor, by s: Float) {
        let p = t.floatPointer
        withExtendedLifetime(t) {
            Parallel.forRanges(t.count, grain: ElementwiseKernels.grain) { range in
                for i in range { p[i] *= s }
            }
        }
    }

    /// The gradient of the counted rows `[n, d]` spread into zeros shaped like the hidden states.
    static func scatter(_ g: Tensor, rows: [Int], into shape: [Int]) -> Tensor {
        let dim = shape[shape.count - 1]
        // Every row counted: the rows are 0..<N in order, already in place.
        if rows.count * dim == shape.reduce(1, *) { return g.reshape(shape) }
        let out = Tensor.zeros(shape)
        withExtendedLifetime(g) {
            let src = UnsafePointer(g.floatPointer), dst = out.floatPointer
            for (i, r) in rows.enumerated() { (dst + r * dim).update(from: src + i * dim, count: dim) }
        }
        return out
    }
}
