import Foundation

/// Per-token log-probabilities of sampled completions under a model: the quantity every online
/// objective's ratio, KL and policy-gradient terms are built from, computed one way for the
/// policy (with gradients), the old policy and the reference (without).
///
/// log π(y_t | x, y_<t) is read at the sampling temperature — log softmax(logits / T) — as TRL
/// does, so π_old matches the distribution the completions were drawn from. Only the positions
/// from the first completion token on reach the LM head: the prompt's logits would be `[B, P, V]`
/// of work (a 49k vocabulary) that no loss reads.
public enum CompletionLogProbs {
    /// The log-probabilities and, when asked, each completion token's entropy.
    public struct Result {
        /// log π(ids[b, t] | ids[b, <t]) at every position where `mask` is 1, else 0, `[batch, seq]`;
        /// recorded by autograd when the model is.
        public var logprobs: Tensor
        /// Entropy of the next-token distribution (at temperature T) that chose each masked token,
        /// `[batch, seq]`, 0 elsewhere; never recorded by autograd (a metric and a mask input).
        public var entropies: Tensor?
    }

    /// log π(y_t | ·) for the positions `mask` (float `[batch, seq]`) marks, from one forward pass
    /// of `model` over `inputIDs` (int32 `[batch, seq]`) with `attentionMask`.
    public static func compute(model: any TrainableLanguageModel, inputIDs: Tensor, attentionMask: Tensor, mask: Tensor,
                               temperature: Float = 1, entropies wantEntropies: Bool = false) throws -> Result {
        guard inputIDs.dtype == .int32, inputIDs.rank == 2 else {
            throw TrainingError("completion log-probs: input ids must be int32 [batch, seq], got \(inputIDs.dtype) \(inputIDs.shape)")
        }
        guard mask.shape == inputIDs.shape, attentionMask.shape == inputIDs.shape else {
            throw TrainingError("completion log-probs: masks \(mask.shape) and \(attentionMask.shape) must match input ids \(inputIDs.shape)")
        }
        guard temperature > 0, temperature.isFinite else {
            throw TrainingError("completion log-probs: temperature must be > 0, got \(temperature)")
        }
        let b = inputIDs.shape[0], s = inputIDs.shape[1]
        let m = mask.scalars
        // The first column any row scores; the logits at column c predict token c + 1.
        let first = (0..<s).first { c in (0..<b).contains { m[$0 * s + c] != 0 } } ?? s
        guard first < s else {
            return Result(logprobs: Tensor.zeros([b, s]), entropies: wantEntropies ? Tensor.zeros([b, s]) : nil)
        }
        guard first >= 1 else {
            throw TrainingError("completion log-probs: a completion token sits in column 0, where no earlier token predicts it")
        }
        let width = s - first
        let hidden = try model.hiddenStates(inputIDs: inputIDs, attentionMask: attentionMask)
        var logits = model.logits(hiddenStates: hidden.narrow(1, start: first - 1, length: width))
        if temperature != 1 { logits = logits / temperature }
        let ids = inputIDs.int32Values
        var targets = [Int32](repeating: 0, count: b * width)
        for r in 0..<b { for c in 0..<width { targets[r * width + c] = ids[r * s + first + c] } }
        let scored = Tensor.gatherLogProbs(logits: logits, ids: Tensor(shape: [b, width], int32: targets))
        let logprobs = Tensor.concat([Tensor.zeros([b, first]), scored], axis: 1) * mask
        return Result(logprobs: logprobs, entropies: wantEntropies ? entropy(logits, mask: mask, first: first) : nil)
    }

    /// H = log Σ exp(z) − Σ softmax(z)·z per masked position, from the `[b, width, V]` logits that
    /// start at column `first − 1`.
    private static func entropy(_ logits: Tensor, mask: Tensor, first: Int) -> Tensor {
        let x = logits.contiguous()
        let b = x.shape[0], width = x.shape[1], vocab = x.shape[2], s = first + width
        let m = mask.scalars
        var out = [Float](repeating: 0, count: b * s)
        withExtendedLifetime(x) {
            let p = UnsafePointer(x.floatPointer)
            out.withUnsafeMutableBufferPointer { o in
                let po = o.baseAddress!
                Parallel.forRanges(b * width, grain: max(1, 32_768 / max(vocab, 1))) { range in
                    for i in range {
                        let r = i / width, c = first + i % width
                        guard m[r * s + c] != 0 else { continue }
                        let row = p + i * vocab
                        var mx = -Float.infinity
                        for j in 0..<vocab { mx = max(mx, row[j]) }
                        var z = 0.0, weighted = 0.0
                        for j in 0..<vocab {
                            let e = Double(expf(row[j] - mx))
                            z += e
                            weighted += e * Double(row[j] - mx)
                        }
                        po[r * s + c] = Float(log(z) - weighted / z)
                    }
                }
            }
        }
        return Tensor(shape: [b, s], scalars: out)
    }
}
