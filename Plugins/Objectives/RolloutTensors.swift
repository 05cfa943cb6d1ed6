import TemperCore

/// What the online objectives (rloo, reinforce-plus-plus, remax, ppo, rft) share about reading a
/// `RolloutBatch`: its shapes checked once with messages that name the objective and the field,
/// rows taken out of the loss, and the old / reference log-probabilities computed here when the
/// host left them out.
///
/// Layout: every `[batch, seq]` tensor holds at column t the value for token t of the row
/// (`CompletionLogProbs`: log π(ids[b, t] | ids[b, <t]) at the sampling temperature, read from the
/// logits at t − 1). What `prepare` stores in `extra` keeps the batch axis first (`[batch]` or
/// `[batch, seq]`), so `RolloutBatch.rows(_:)` cuts it into micro-batches with the rows.
enum RolloutTensors {
    /// The rollouts of `input`, or an error naming `objective` when it was handed dataset batches.
    static func rollouts(_ input: ObjectiveInput, objective: String) throws -> RolloutBatch {
        guard case .rollouts(let r) = input else {
            throw SpecError("\(objective): trains on rollouts (prompt datasets sampled by the policy), got a dataset batch")
        }
        return r
    }

    /// Checks that every field of `r` has the batch's shape, that completions follow at least one
    /// prompt token and that no reward is infinite (NaN is a row no reward function scored).
    static func validate(_ r: RolloutBatch, objective: String) throws {
        let ids = r.inputIDs
        guard ids.dtype == .int32, ids.rank == 2, ids.shape[0] > 0, ids.shape[1] >= 2 else {
            throw SpecError("\(objective): rollout input ids must be int32 [batch, seq] with seq ≥ 2, got \(ids.dtype) \(ids.shape)")
        }
        let b = ids.shape[0], t = ids.shape[1]
        var tensors = [("attention mask", r.attentionMask), ("completion mask", r.completionMask)]
        if let x = r.oldLogprobs { tensors.append(("old log-probs", x)) }
        if let x = r.referenceLogprobs { tensors.append(("reference log-probs", x)) }
        for (name, tensor) in tensors {
            guard tensor.dtype == .float32, tensor.shape == ids.shape else {
                throw SpecError("\(objective): rollout \(name) must be float32 \(ids.shape) like the input ids, got \(tensor.dtype) \(tensor.shape)")
            }
        }
        for (name, count) in [("groupIndex", r.groupIndex.count), ("rewards", r.rewards.count)] where count != b {
            throw SpecError("\(objective): rollout \(name) has \(count) entries for \(b) rows")
        }
        if let base = r.baselineRewards, base.count != b {
            throw SpecError("\(objective): rollout baselineRewards has \(base.count) entries for \(b) rows")
        }
        if !r.truncated.isEmpty && r.truncated.count != b {
            throw SpecError("\(objective): rollout truncated has \(r.truncated.count) entries for \(b) rows")
        }
        let mask = r.completionMask.scalars
        if let row = (0..<b).first(where: { mask[$0 * t] != 0 }) {
            throw SpecError("\(objective): row \(row) marks token 0 as a completion token; a completion must follow at least one prompt token")
        }
        for (name, values) in [("reward", r.rewards), ("greedy-baseline reward", r.baselineRewards ?? [])] {
            if let row = values.firstIndex(where: { $0.isInfinite }) {
                throw SpecError("\(objective): the \(name) of row \(row) is \(values[row]); rewards must be finite (or nil where a reward does not apply)")
            }
        }
    }

    /// Clears the completion mask of the rows `drop` marks: they then carry no loss, no KL and no
    /// token in any mean, and weigh nothing in the host's token weighting.
    static func dropRows(_ r: inout RolloutBatch, _ drop: [Bool]) {
        guard drop.contains(true) else { return }
        let keep = drop.map { $0 ? Float(0) : 1 }
        r.completionMask = r.completionMask * Tensor(shape: [keep.count, 1], scalars: keep)
    }

    /// The rows to leave out of a token-level loss: truncated ones when asked (TRL's
    /// `mask_truncated_completions`), and those no reward function scored (NaN reward).
    static func unusable(_ r: RolloutBatch, maskTruncated: Bool) -> [Bool] {
        r.rewards.indices.map { r.rewards[$0].isNaN || (maskTruncated && $0 < r.truncated.count && r.truncated[$0]) }
    }

    /// log π(y_t) of the completion tokens under `model` at the rollouts' sampling temperature,
    /// 0 outside the completion mask; recorded by autograd unless called without gradients.
    static func logprobs(of model: any TrainableLanguageModel, _ r: RolloutBatch, entropies: Bool = false) throws -> CompletionLogProbs.Result {
        try CompletionLogProbs.compute(model: model, inputIDs: r.inputIDs, attentionMask: r.attentionMask, mask: r.completionMask,
                                       temperature: r.temperature, entropies: entropies)
    }

    /// Fills `r.oldLogprobs` from the policy (the policy that sampled is the one `prepare` sees)
    /// and `r.referenceLogprobs` from `context.reference` where the host left them out, for a KL
    /// penalty: both without gradients and with dropout off.
    static func fillKLLogprobs(_ r: inout RolloutBatch, context: ObjectiveContext, objective: String) throws {
        let batch = r
        if r.oldLogprobs == nil { r.oldLogprobs = try inChunks(batch) { [try logprobs(of: context.policy, $0).logprobs] }[0] }
        guard r.referenceLogprobs == nil else { return }
        guard let model = context.reference else {
            throw SpecError("\(objective): the KL penalty (beta > 0) needs the reference model's log-probs, but the rollouts carry none and no reference model is set")
        }
        r.referenceLogprobs = try inChunks(batch) { [try logprobs(of: model, $0).logprobs] }[0]
    }

    /// Rows per forward pass in `prepare`: a generation batch may span many micro-batches, and one
    /// pass over all of it would hold its `[rows, completion, vocabulary]` logits at once (8 rows of
    /// 64 tokens at SmolLM2's 49k vocabulary: 100 MB; a 64-row batch: 800 MB).
    static let chunkRows = 8

    /// `pass` over `r`, `chunkRows` rows at a time, without gradients and with dropout off; each of
    /// the tensors it returns (batch axis first) is concatenated back over the rows.
    static func inChunks(_ r: RolloutBatch, _ pass: (RolloutBatch) throws -> [Tensor]) throws -> [Tensor] {
        var parts: [[Tensor]] = []
        try withNoGrad {
            try withEvalMode {
                for lo in stride(from: 0, to: r.rowCount, by: chunkRows) { parts.append(try pass(r.rows(lo..<min(r.rowCount, lo + chunkRows)))) }
            }
        }
        guard let first = parts.first else { return [] }
        return first.indices.map { k in parts.count == 1 ? parts[0][k] : Tensor.concat(parts.map { $0[k] }, axis: 0) }
    }

    /// A `[batch, seq]` tensor's values row by row, as the recursions over tokens read them.
    static func rows(_ x: Tensor) -> [[Float]] {
        let b = x.shape[0], t = x.shape[1], v = x.scalars
        return (0..<b).map { Array(v[($0 * t)..<(($0 + 1) * t)]) }
    }

    /// Rows back into a `[batch, seq]` tensor.
    static func tensor(_ rows: [[Float]]) -> Tensor {
        Tensor(shape: [rows.count, rows.first?.count ?? 0], scalars: rows.flatMap { $0 })
    }

    /// `Advantages.whitened` over the completion tokens of all rows (`mask` non-zero), row by row
    /// back; 0 outside the mask.
    static func whitened(_ x: [[Float]], mask: [[Float]], scale: WhiteningScale, keepMean: Bool = false) -> [[Float]] {
        let flat = Advantages.whitened(x.flatMap { $0 }, weights: mask.flatMap { $0 }, scale: scale, keepMean: keepMean)
        var start = 0
        return x.map { row in
            defer { start += row.count }
            return Array(flat[start..<(start + row.count)])
        }
    }

    /// Σ x·mask / Σ mask over every element, as a scalar tensor; 0 (with x's graph, zero
    /// gradient) when the mask selects nothing, so a batch of fully masked completions trains on
    /// nothing instead of dividing by zero.
    static func maskedMean(_ x: Tensor, _ mask: Tensor) -> Tensor {
        let count = mask.scalars.reduce(0, +)
        return (x * mask).sum() * (1 / max(count, 1))
    }
}
