/// Names of the `TrainingBatch.extra` tensors that `BatchCollator` writes for preference,
/// unpaired and stepwise data, and that the objectives reading them check for.
public enum BatchKeys {
    /// `[n]` ones: the batch holds n preference pairs, rows `0..<n` chosen and `n..<2n` rejected.
    public static let pairs = "preference_pairs"
    /// `[2n]` position each row's score is read at by a sequence classifier (reward model).
    public static let scoreIndex = "score_index"
    /// `[n]` margins of the pairs (reward modelling).
    public static let margin = "margin"
    /// `[n]` 1 for desirable, 0 for undesirable completions (KTO).
    public static let label = "label"
    /// int32 `[n, seq']`: prompt i with the completion of row i − 1, for KTO's KL estimate.
    public static let klInputIDs = "kl_input_ids"
    /// `[n, seq']` attention mask of the KL rows.
    public static let klAttentionMask = "kl_attention_mask"
    /// `[n, seq']` loss mask (completion tokens) of the KL rows.
    public static let klLossMask = "kl_loss_mask"
    /// int32 `[batch, seq]` step labels, 1 / 0 on each step's last token, −100 elsewhere (PRM).
    public static let stepLabels = "step_labels"
    /// `[rows]` reference log-probabilities computed before training (`precompute_ref_log_probs`).
    public static let referenceLogProbs = "ref_logps"
    /// `[n]` reference log-probabilities of the KL rows, computed before training (KTO with
    /// `precompute_ref_log_probs`).
    public static let klReferenceLogProbs = "kl_ref_logps"
}

extension TrainingBatch {
    /// The number of preference pairs in this batch, or an error naming `objective` and the data
    /// it needs when the batch is not made of pairs.
    public func preferencePairCount(objective: String) throws -> Int {
        guard let pairs = extra[BatchKeys.pairs], inputIDs.rank == 2, inputIDs.shape[0] == 2 * pairs.count else {
            throw TrainingError("\(objective): needs preference data (rows with 'prompt', 'chosen' and 'rejected'); this batch is not made of pairs")
        }
        return pairs.count
    }

    /// The desirable / undesirable labels of an unpaired batch, or an error naming `objective`.
    public func unpairedLabels(objective: String) throws -> [Bool] {
        guard let labels = extra[BatchKeys.label], labels.count == inputIDs.shape[0] else {
            throw TrainingError("\(objective): needs unpaired data (rows with 'prompt', 'completion' and a bool 'label'); this batch has no labels")
        }
        return labels.scalars.map { $0 != 0 }
    }

    /// The step labels of a stepwise batch, or an error naming `objective`.
    public func stepLabels(objective: String) throws -> Tensor {
        guard let labels = extra[BatchKeys.stepLabels], labels.shape == inputIDs.shape else {
            throw TrainingError("\(objective): needs stepwise data (rows with 'prompt', 'completions' and 'labels'); this batch has no step labels")
        }
        return labels
    }
}
