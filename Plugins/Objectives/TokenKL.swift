import Foundation
import TemperCore

/// Which way the token-level KL divergence between teacher (p) and student (q) points.
public enum KLDirection: String, CaseIterable {
    /// KL(p_T ‖ p_S): mass-covering, Hinton et al.'s distillation loss.
    case forward
    /// KL(p_S ‖ p_T): mode-seeking, as in MiniLLM.
    case reverse
}

/// The fused token-level KL divergence between a frozen teacher's and the student's softened
/// distributions, over the rows a mask selects.
///
/// Each row's two log-sum-exps and its KL come from passes over the logits; backward rebuilds the
/// probabilities from the saved log-sum-exps, so no `[N, V]` probability tensor is stored — at a
/// 49k vocabulary that tensor would be as large as the logits themselves.
enum TokenKL {
    /// τ² · mean over selected rows of KL at temperature τ, as a scalar recorded against `student`
    /// only (the teacher gets no gradient). Also returns the plain mean KL, for logging.
    /// `student` and `teacher` are `[..., V]` float32 with equal shapes; `rows` lists the row indices
    /// (of the flattened `[N, V]` view) that count.
    static func loss(student: Tensor, teacher: Tensor, rows: [Int], temperature: Float,
                     direction: KLDirection) -> (loss: Tensor, meanKL: Double) {
        let s = student.isContiguous ? student : student.contiguous()
        let t = teacher.isContiguous ? teacher.detached() : teacher.contiguous().detached()
        let vocab = s.shape[s.rank - 1]
        let n = rows.count
        let invT = 1 / temperature
        // Per selected row: student lse, teacher lse, KL.
        var saved = [Float](repeating: 0, count: 3 * n)
        let grain = max(1, 32_768 / max(vocab, 1))
        withExtendedLifetime((s, t)) {
            let ps = UnsafePointer(s.floatPointer), pt = UnsafePointer(t.floatPointer)
            saved.withUnsafeMutableBufferPointer { out in
                let o = out.baseAddress!
                Parallel.forRanges(n, grain: grain) { range in
                    for i in range {
                        let r = rows[i]
                        let sr = ps + r * vocab, tr = pt + r * vocab
                        let ls = logSumExp(sr, vocab, invT), lt = logSumExp(tr, vocab, invT)
                        o[3 * i] = ls
                        o[3 * i + 1] = lt
                        o[3 * i + 2] = rowKL(sr, tr, vocab, invT, ls, lt, direction)
                    }
                }
            }
        }
        var total = 0.0
        for i in 0..<n { total += Double(saved[3 * i + 2]) }
        let meanKL = n == 0 ? 0 : total / Double(n)
        let scaleT2 = temperature * temperature
        let out = Tensor(scalar: Float(meanKL) * scaleT2)
        let loss = record(out, "tokenKL", [s]) { g in
            let grad = Tensor.zeros(s.shape)
            guard n > 0 else { return [grad] }
            // d(τ²·KL/N)/ds = τ²/N · (1/τ) · d KL/dz with z = s/τ.
            let c = g.contiguous().floatPointer[0] * scaleT2 * invT / Float(n)
            withExtendedLifetime((s, t, grad)) {
                let ps = UnsafePointer(s.floatPointer), pt = UnsafePointer(t.floatPointer), pg = grad.floatPointer
                saved.withUnsafeBufferPointer { sv in
                    let v = sv.baseAddress!
                    Parallel.forRanges(n, grain: grain) { range in
                        for i in range {
                            let r = rows[i]
                            rowGradient(ps + r * vocab, pt + r * vocab, pg + r * vocab, vocab, invT,
                                        v[3 * i], v[3 * i + 1], v[3 * i + 2], c, direction)
                        }
                    }
                }
            }
            return [grad]
        }
        return (loss, meanKL)
    }

    /// log Σ exp(x_j/τ), shifted by the maximum so large logits do not overflow.
    @inline(__always)
    private static func logSumExp(_ x: UnsafePointer<Float>, _ n: Int, _ invT: Float) -> Float {
        var m = -Float.infinity
        for j in 0..<n { m = max(m, x[j]) }
        var sum: Float = 0
        for j in 0..<n { sum += expf((x[j] - m) * invT) }
        return m * invT + logf(sum)
    }

    /// One row's KL from the saved log-sum-exps; accumulated in Double, since the terms cancel.
    @inline(__always)
    private static func rowKL(_ s: UnsafePointer<Float>, _ t: UnsafePointer<Float>, _ n: Int, _ invT: Float,
                              _ ls: Float, _ lt: Float, _ direction: KLDirection) -> Float {
        var kl = 0.0
        for j in 0..<n {
            let logq = s[j] * invT - ls, logp = t[j] * invT - lt
            switch direction {
            case .forward: kl += Double(expf(logp) * (logp - logq))
            case .reverse: kl += Double(expf(logq) * (logq - logp))
            }
        }
        return Float(kl)
    }

    /// Adds c · ∂KL/∂z_j into g: forward KL gives q − p; reverse gives q · (log q − log p − KL).
    @inline(__always)
    private static func rowGradient(_ s: UnsafePointer<Float>, _ t: UnsafePointer<Float>, _ g: UnsafeMutablePointer<Float>, _ n: Int,
                                    _ invT: Float, _ ls: Float, _ lt: Float, _ kl: Float, _ c: Float, _ direction: KLDirection) {
        for j in 0..<n {
            let logq = s[j] * invT - ls, logp = t[j] * invT - lt
            let q = expf(logq)
            switch direction {
            case .forward: g[j] = c * (q - expf(logp))
            case .reverse: g[j] = c * q * (logq - logp - kl)
            }
        }
    }
}
