import TemperModels

/// Per-row log-probabilities of the target tokens, the quantity every preference objective compares
/// (and `precompute_ref_log_probs` caches):
/// log π(y | x) = Σ_t log π(y_t | x, y_<t) over the completion tokens (the loss mask), and their count.
public struct SequenceLogProbs {
    /// Σ over each row's target tokens of log π(token), `[rows]`, recorded by autograd.
    public let sums: Tensor
    /// Target tokens per row, `[rows]` (constants, at least 1 so means stay finite).
    public let counts: Tensor

    /// The mean log-probability per target token, `[rows]` (SimPO's, ORPO's and IPO's length normalisation).
    public var means: Tensor { sums / counts }

    /// The NLL of the chosen completions of a batch of `pairs` pairs: −Σ log π over all their
    /// tokens / their token count (TRL's cross-entropy on the chosen half of the batch).
    public func chosenNLL(pairs: Int) -> Tensor {
        -sums.narrow(0, start: 0, length: pairs).sum() / counts.narrow(0, start: 0, length: pairs).sum().item
    }

    /// From logits `[rows, seq, vocab]`: the logits at t predict token t + 1, which counts when
    /// `lossMask[t + 1]` is set (padding and prompt tokens never are).
    public init(logits: Tensor, inputIDs: Tensor, lossMask: Tensor) {
        let rows = inputIDs.shape[0], length = inputIDs.shape[1]
        let ids = inputIDs.int32Values, mask = lossMask.scalars
        var next = [Int32](repeating: 0, count: rows * length)
        var counted = [Float](repeating: 0, count: rows * length)
        var perRow = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            for t in 0..<(length - 1) where mask[r * length + t + 1] != 0 {
                next[r * length + t] = ids[r * length + t + 1]
                counted[r * length + t] = 1
                perRow[r] += 1
            }
        }
        let logps = Tensor.gatherLogProbs(logits: logits, ids: Tensor(shape: [rows, length], int32: next))
        sums = (logps * Tensor(shape: [rows, length], scalars: counted)).sum(axis: 1)
        counts = Tensor(shape: [rows], scalars: perRow.map { max($0, 1) })
    }

    /// The log-probabilities under `model` of the rows of `inputIDs` (one forward pass).
    public init(model: any TrainableLanguageModel, inputIDs: Tensor, attentionMask: Tensor, lossMask: Tensor) throws {
        self.init(logits: try model.logits(inputIDs: inputIDs, attentionMask: attentionMask), inputIDs: inputIDs, lossMask: lossMask)
    }

    /// Of a batch's rows.
    public init(model: any TrainableLanguageModel, batch: TrainingBatch) throws {
        try self.init(model: model, inputIDs: batch.inputIDs, attentionMask: batch.attentionMask, lossMask: batch.lossMask)
    }
}

