import TemperCore

/// What the online objectives (rloo, reinforce++, remax, ppo, rft) share about reading a
/// `RolloutBatch`: its shapes checked once with messages that name the objective and the field,
/// per-token log-probabilities aligned with the tokens they score, and the old / reference
/// log-probabilities computed here when the host left them out.
///
/// Layout: every `[batch, seq]` tensor holds at column t the value for token t of the row, so
/// `logprobs[b, t] = log π(ids[b, t] | ids[b, <t])`, read from the logits at t − 1. Column 0 has no
/// context and is never a completion token. What `prepare` stores in `extra` keeps the batch axis
/// first (`[batch]` or `[batch, seq]`), so a host that splits a rollout batch into micro-batches
/// by rows splits those tensors the same way.
enum RolloutTensors {
    /// The rollouts of `input`, or an error naming `objective` when it was handed dataset batches.
    static func rollouts(_ input: ObjectiveInput, objective: String) throws -> RolloutBatch {
        guard case .rollouts(let r) = input else {
            throw SpecError("\(objective): trains on rollouts (prompt datasets sampled by the policy), got a dataset batch")
        }
        return r
    }

    /// Checks that every field of `r` has the batch's shape, that completions follow at least one
    /// prompt token and that the rewards are finite.
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
        if let row = r.rewards.firstIndex(where: { !$0.isFinite }) {
            throw SpecError("\(objective): the reward of row \(row) is \(r.rewards[row]); rewards must be finite numbers")
        }
        if let base = r.baselineRewards, let row = base.firstIndex(where: { !$0.isFinite }) {
            throw SpecError("\(objective): the greedy-baseline reward of row \(row) is \(base[row]); rewards must be finite numbers")
        }
    }

    /// log π(ids[b, t] | ids[b, <t]) at `[b, t]` from logits `[batch, seq, vocab]`; column 0 is 0.
    /// Differentiable in `logits`.
    static func tokenLogprobs(logits: Tensor, ids: Tensor) -> Tensor {
        let b = ids.shape[0], t = ids.shape[1]
        // Logits at t − 1 predict token t.
        let shifted = Tensor.gatherLogProbs(logits: logits.narrow(1, start: 0, length: t - 1), ids: ids.narrow(1, start: 1, length: t - 1))
        return Tensor.concat([Tensor.zeros([b, 1]), shifted], axis: 1)
    }

    /// Zeroes the completion mask of truncated rows (TRL's `mask_truncated_completions`): a
    /// completion cut at the length limit then carries no loss, no KL and no token in any mean.
    static func maskTruncated(_ r: inout RolloutBatch) {
        guard r.truncated.contains(true) else { return }
        let b = r.inputIDs.shape[0], t = r.inputIDs.shape[1]
        var mask = r.completionMask.scalars
        for row in 0..<b where r.truncated[row] { for c in 0..<t { mask[row * t + c] = 0 } }
        r.completionMask = Tensor(shape: [b, t], scalars: mask)
    }

    /// Fills `r.oldLogprobs` from the policy when the host left it out (the policy that sampled is
    /// the one `prepare` sees), and `r.referenceLogprobs` from `context.reference` when `reference`
    /// is asked for; both without gradients and with dropout off, zero outside the completion mask.
    static func fillLogprobs(_ r: inout RolloutBatch, context: ObjectiveContext, reference: Bool, objective: String) throws {
        if r.oldLogprobs == nil { r.oldLogprobs = try logprobs(of: context.policy, r) }
        guard reference, r.referenceLogprobs == nil else { return }
        guard let model = context.reference else {
            throw SpecError("\(objective): the KL penalty (beta > 0) needs the reference model's log-probs, but the rollouts carry none and no reference model is set")
        }
        r.referenceLogprobs = try logprobs(of: model, r)
    }

    /// A model's per-token log-probs of the rollouts' tokens, masked to the completion.
    static func logprobs(of model: any TrainableLanguageModel, _ r: RolloutBatch) throws -> Tensor {
        try withNoGrad {
            try withEvalMode {
                let logits = try model.logits(inputIDs: r.inputIDs, attentionMask: r.attentionMask)
                return tokenLogprobs(logits: logits, ids: r.inputIDs) * r.completionMask
            }
        }
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
}
