import Foundation

/// How per-token losses combine into the result.
public enum LossReduction: String, Sendable, CaseIterable {
    /// Weighted mean over the tokens that are not ignored (Σ wᵢ·lossᵢ / Σ wᵢ); 0 when every token is ignored.
    case mean
    /// Weighted sum over the tokens that are not ignored.
    case sum
    /// One loss per token, 0 at ignored tokens (shape of the targets).
    case none
}

/// Token-level losses over vocabulary logits, fused: one pass per row computes the log-sum-exp,
/// backward rebuilds softmax from it, and no `[N, V]` log-probability tensor is ever stored.
extension Tensor {
    /// Cross-entropy of `logits` `[..., V]` against int32 `targets` `[...]`.
    ///
    /// Tokens whose target equals `ignoreIndex` (Hugging Face's -100 by default) contribute nothing;
    /// `weights` (float32, shaped like `targets`) scale each token's loss. Every other target must
    /// lie in `0..<V`.
    public static func crossEntropy(logits: Tensor, targets: Tensor, ignoreIndex: Int32 = -100, weights: Tensor? = nil,
                                    reduction: LossReduction = .mean) -> Tensor {
        let (x, rows, vocab) = TokenLoss.validate(logits, targets, "crossEntropy")
        let (tc, tokenWeight) = TokenLoss.tokenWeights(targets, weights, vocab: vocab, ignoreIndex: ignoreIndex, op: "crossEntropy")
        let pt = UnsafePointer(tc.int32Pointer)
        let lse = TokenLoss.logSumExp(x, rows: rows, vocab: vocab)
        let perToken = Tensor(uninitializedShape: targets.shape)
        let px = UnsafePointer(x.floatPointer), pl = UnsafePointer(lse.floatPointer), pp = perToken.floatPointer
        var total = 0.0, denominator = 0.0
        withExtendedLifetime((x, tc, lse)) {
            for r in 0..<rows {
                let w = tokenWeight[r]
                // (max − x_t) + log Σ: adding the two parts last keeps a 0.69 loss exact next to logits of 1e4.
                let loss = w == 0 ? 0 : w * ((pl[2 * r] - px[r * vocab + Int(pt[r])]) + pl[2 * r + 1])
                pp[r] = loss
                total += Double(loss)
                denominator += Double(w)
            }
        }
        let out: Tensor
        let gradScale: Float
        switch reduction {
        case .none: out = perToken; gradScale = 1
        case .sum: out = Tensor(scalar: Float(total)); gradScale = 1
        case .mean:
            out = Tensor(scalar: denominator == 0 ? 0 : Float(total / denominator))
            gradScale = denominator == 0 ? 0 : Float(1 / denominator)
        }
        return record(out, "crossEntropy", [x]) { g in
            let gc = g.isContiguous ? g : g.copy()
            let perRow = reduction == .none
            let coef: (Int) -> Float = { r in (perRow ? gc.floatPointer[r] : gc.floatPointer[0]) * gradScale * tokenWeight[r] }
            return [TokenLoss.softmaxMinusOneHot(x, lse, rows: rows, vocab: vocab, coefficient: coef, index: { Int(pt[$0]) },
                                                 keepAlive: [gc, tc])]
        }
    }

    /// log softmax(logits)[ids]: the log-probability of each given token, `[...]` from logits
    /// `[..., V]` and int32 ids `[...]` (all in `0..<V`). The policy term of DPO, GRPO and friends.
    public static func gatherLogProbs(logits: Tensor, ids: Tensor) -> Tensor {
        let (x, rows, vocab) = TokenLoss.validate(logits, ids, "gatherLogProbs")
        let ic = ids.isContiguous ? ids : ids.copy()
        let pi = UnsafePointer(ic.int32Pointer)
        for r in 0..<rows where pi[r] < 0 || Int(pi[r]) >= vocab {
            preconditionFailure("gatherLogProbs: id \(pi[r]) at position \(r) is outside 0..<\(vocab)")
        }
        let lse = TokenLoss.logSumExp(x, rows: rows, vocab: vocab)
        let out = Tensor(uninitializedShape: ids.shape)
        let px = UnsafePointer(x.floatPointer), pl = UnsafePointer(lse.floatPointer), po = out.floatPointer
        withExtendedLifetime((x, ic, lse)) {
            for r in 0..<rows { po[r] = (px[r * vocab + Int(pi[r])] - pl[2 * r]) - pl[2 * r + 1] }
        }
        return record(out, "gatherLogProbs", [x]) { g in
            let gc = g.isContiguous ? g : g.copy()
            // d/dx of (x[id] − lse) is onehot − softmax: the cross-entropy gradient with coefficient −g.
            return [TokenLoss.softmaxMinusOneHot(x, lse, rows: rows, vocab: vocab, coefficient: { -gc.floatPointer[$0] },
                                                 index: { Int(pi[$0]) }, keepAlive: [gc, ic])]
        }
    }
}

/// Row kernels shared by the token losses.
enum TokenLoss {
    /// Checks shapes and returns contiguous logits, the row count and the vocabulary size.
    static func validate(_ logits: Tensor, _ ids: Tensor, _ op: String) -> (Tensor, Int, Int) {
        precondition(logits.dtype == .float32 && logits.rank >= 1, "\(op): logits must be float32 [..., V], got \(logits.dtype) \(logits.shape)")
        precondition(ids.dtype == .int32, "\(op): token ids must be int32, got \(ids.dtype)")
        precondition(ids.shape == Array(logits.shape.dropLast()),
                     "\(op): ids shape \(ids.shape) must equal logits shape \(logits.shape) without its last axis")
        let vocab = logits.shape[logits.rank - 1]
        precondition(vocab > 0, "\(op): empty vocabulary axis")
        return (logits.contiguous(), ids.count, vocab)
    }

    /// Each token's weight — 0 where its target is `ignoreIndex`, else its entry of `weights` (1
    /// without them) — after checking that every other target lies in `0..<vocab` and that
    /// `weights` is float32 shaped like `targets`; with the targets, contiguous.
    static func tokenWeights(_ targets: Tensor, _ weights: Tensor?, vocab: Int, ignoreIndex: Int32, op: String) -> (Tensor, [Float]) {
        let tc = targets.isContiguous ? targets : targets.copy()
        let ids = tc.int32Values
        for (r, t) in ids.enumerated() where t != ignoreIndex && (t < 0 || Int(t) >= vocab) {
            preconditionFailure("\(op): target \(t) at position \(r) is outside 0..<\(vocab) and is not ignoreIndex \(ignoreIndex)")
        }
        var given: [Float]? = nil
        if let weights {
            precondition(weights.dtype == .float32 && weights.shape == targets.shape,
                         "\(op): weights must be float32 shaped like targets \(targets.shape), got \(weights.dtype) \(weights.shape)")
            given = weights.contiguous().scalars
        }
        return (tc, ids.enumerated().map { r, t in t == ignoreIndex ? 0 : given?[r] ?? 1 })
    }

    /// Each row's log Σ exp as two parts, `[rows, 2]` = (max, log Σ exp(x − max)). Kept apart
    /// because their float sum would round away the small part next to logits of ±1e4.
    static func logSumExp(_ x: Tensor, rows: Int, vocab: Int) -> Tensor {
        let lse = Tensor(uninitializedShape: [rows, 2])
        let px = UnsafePointer(x.floatPointer), pl = lse.floatPointer
        withExtendedLifetime(x) {
            RowKernels.forRows(rows, width: vocab) { range in
                for r in range {
                    let row = px + r * vocab
                    let m = RowKernels.max(row, vocab)
                    pl[2 * r] = m
                    pl[2 * r + 1] = Foundation.logf(RowKernels.sumExp(row, vocab, shift: m, out: nil))
                }
            }
        }
        return lse
    }

    /// `c(r)·(softmax(x_r) − onehot(index(r)))` for every row, as a new `[rows, vocab]`-shaped
    /// tensor shaped like `x`. Rows with coefficient 0 are written as zeros without reading `x`.
    static func softmaxMinusOneHot(_ x: Tensor, _ lse: Tensor, rows: Int, vocab: Int, coefficient: (Int) -> Float,
                                   index: (Int) -> Int, keepAlive: [Tensor]) -> Tensor {
        let gx = Tensor(uninitializedShape: x.shape)
        let px = UnsafePointer(x.floatPointer), pl = UnsafePointer(lse.floatPointer), pd = gx.floatPointer
        withExtendedLifetime((x, lse, keepAlive)) {
            RowKernels.forRows(rows, width: vocab) { range in
                for r in range {
                    let row = px + r * vocab, dr = pd + r * vocab
                    softmaxMinusOneHotRow(row, into: dr, vocab: vocab, max: pl[2 * r], logSum: pl[2 * r + 1], coefficient: coefficient(r), index: index(r))
                }
            }
        }
        return gx
    }

    /// `out[j] = c·(exp(x[j] − max − logSum) − [j == index])` for one row of `vocab` logits, where
    /// (max, logSum) are its `logSumExp` parts; `out` may be `x` itself. Zeros when c is 0, without
    /// reading `x`.
    @inline(__always)
    static func softmaxMinusOneHotRow(_ row: UnsafePointer<Float>, into dr: UnsafeMutablePointer<Float>, vocab: Int, max: Float, logSum: Float,
                                      coefficient c: Float, index: Int) {
        if c == 0 { dr.update(repeating: 0, count: vocab); return }
        let m = SIMD8<Float>(repeating: max), ls = SIMD8<Float>(repeating: logSum)
        let cv = SIMD8<Float>(repeating: c)
        var j = 0
        while j + 8 <= vocab { RowKernels.store(cv * SIMDMath.exp((RowKernels.load(row + j) - m) - ls), dr + j); j += 8 }
        while j < vocab { dr[j] = c * Foundation.expf((row[j] - max) - logSum); j += 1 }
        dr[index] -= c
    }
}
