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

    /// From the logits of columns `first ..< first + width` (`[rows, width, vocab]`): the logits at
    /// column t predict token t + 1, which counts when `lossMask[t + 1]` is set (padding and prompt
    /// tokens never are).
    init(logits: Tensor, first: Int, inputIDs: Tensor, lossMask: Tensor) {
        let rows = inputIDs.shape[0], length = inputIDs.shape[1], width = logits.shape[1]
        let ids = inputIDs.int32Values, mask = lossMask.scalars
        var next = [Int32](repeating: 0, count: rows * width)
        var counted = [Float](repeating: 0, count: rows * width)
        var perRow = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            for c in 0..<width where first + c + 1 < length && mask[r * length + first + c + 1] != 0 {
                next[r * width + c] = ids[r * length + first + c + 1]
                counted[r * width + c] = 1
                perRow[r] += 1
            }
        }
        let logps = Tensor.gatherLogProbs(logits: logits, ids: Tensor(shape: [rows, width], int32: next))
        sums = (logps * Tensor(shape: [rows, width], scalars: counted)).sum(axis: 1)
        counts = Tensor(shape: [rows], scalars: perRow.map { max($0, 1) })
    }

    /// The log-probabilities under `model` of the rows of `inputIDs` (one forward pass). Only the
    /// columns that predict a target token of some row reach the LM head: the prompt's logits
    /// would be `[rows, prompt, vocab]` (a 49k vocabulary) of GEMM, log-softmax and gradient that
    /// no loss reads.
    public init(model: any TrainableLanguageModel, inputIDs: Tensor, attentionMask: Tensor, lossMask: Tensor) throws {
        let length = inputIDs.shape[1], rows = inputIDs.shape[0], mask = lossMask.scalars
        let predicting = (0..<max(0, length - 1)).filter { t in (0..<rows).contains { mask[$0 * length + t + 1] != 0 } }
        let first = predicting.first ?? 0, width = (predicting.last ?? 0) - first + 1
        let hidden = try model.hiddenStates(inputIDs: inputIDs, attentionMask: attentionMask)
        self.init(logits: model.logits(hiddenStates: hidden.narrow(1, start: first, length: width)), first: first,
                  inputIDs: inputIDs, lossMask: lossMask)
    }

    /// Of a batch's rows.
    public init(model: any TrainableLanguageModel, batch: TrainingBatch) throws {
        try self.init(model: model, inputIDs: batch.inputIDs, attentionMask: batch.attentionMask, lossMask: batch.lossMask)
    }
}

