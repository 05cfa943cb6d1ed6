import TemperCore

/// Kahneman–Tversky Optimization (Ethayarajh et al. 2024, arXiv 2402.01306, Eq. 7) on unpaired
/// rows labelled desirable or undesirable, as TRL 1.x's KTOTrainer computes it. With the log-ratio
/// r(x, y) = log π(y|x) − log π_ref(y|x) and the reference point
/// z₀ = max(0, mean over the batch's mismatched pairs (x_i, y_{i−1}) of r), detached:
/// - desirable: λ_D · (1 − σ(β·(r − z₀)));
/// - undesirable: λ_U · (1 − σ(β·(z₀ − r)));
/// the loss is the mean over all rows. The mismatched (KL) rows come from the collator: prompt i
/// with the completion of row i − 1 of the same batch (so a batch needs at least 2 rows), or,
/// with `precompute_ref_log_probs`, rows fixed before training whose reference log-probabilities
/// (like the completions') were computed once and come with the batch (`ReferenceLogProbCache`).
public final class KTO: Objective {
    /// Registered name.
    public static let name = "kto"
    /// One-line summary for `temper plugins`.
    public static let summary = "Kahneman-Tversky optimization on unpaired prompt/completion/label rows, with the batch KL estimate as reference point"
    /// TRL's KTOConfig names and defaults.
    public static let parameters: [ParameterSpec] = [
        .float("beta", default: 0.1, range: .greaterThan(0), doc: "β: how far the policy may move from the reference"),
        .float("desirable_weight", default: 1, range: .greaterThan(0), doc: "λ_D: weight of desirable rows' losses"),
        .float("undesirable_weight", default: 1, range: .greaterThan(0), doc: "λ_U: weight of undesirable rows' losses"),
    ]

    /// KTO trains on dataset batches.
    public var inputKind: ObjectiveInputKind { .batches }
    /// One loss per row.
    public var lossWeighting: LossWeighting { .sequences }
    /// The reference policy.
    public var needsReference: Bool { true }

    let beta: Float
    let desirableWeight: Float
    let undesirableWeight: Float

    /// Reads β and the two weights.
    public init(config: ComponentConfig) throws {
        beta = try config.float("beta")
        desirableWeight = try config.float("desirable_weight")
        undesirableWeight = try config.float("undesirable_weight")
    }

    /// The mean loss, with `kl` (z₀), `rewards/chosen` / `rewards/rejected` (mean β·r of desirable /
    /// undesirable rows, over those present) and `logps/chosen` / `logps/rejected`.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { throw SpecError("kto: expects dataset batches, got rollouts") }
        let labels = try batch.unpairedLabels(objective: Self.name)
        guard let klIDs = batch.extra[BatchKeys.klInputIDs], let klAttention = batch.extra[BatchKeys.klAttentionMask],
              let klLoss = batch.extra[BatchKeys.klLossMask] else {
            throw TrainingError("kto: the batch lacks the mismatched KL rows the collator builds for unpaired data")
        }
        let policy = try SequenceLogProbs(model: context.policy, batch: batch)
        let r = policy.sums - (try referenceLogProbs(batch, context: context, objective: Self.name))
        // z₀ only shifts the reference point: no gradient flows through it (TRL detaches it too).
        let z0 = try withNoGrad { () -> Float in
            let klPolicy = try SequenceLogProbs(model: context.policy, inputIDs: klIDs, attentionMask: klAttention, lossMask: klLoss).sums
            let klReference: Tensor
            if let cached = batch.extra[BatchKeys.klReferenceLogProbs], cached.count == labels.count {
                klReference = cached
            } else {
                guard let reference = context.reference else {
                    throw TrainingError("kto: needs a reference model (the trainer sets one when the objective asks), but none was given")
                }
                klReference = try SequenceLogProbs(model: reference, inputIDs: klIDs, attentionMask: klAttention, lossMask: klLoss).sums
            }
            return max(0, (klPolicy - klReference).mean().item)
        }
        let desirable = Tensor(shape: [labels.count], scalars: labels.map { $0 ? 1 : 0 })
        let lossDesirable = (1 - ((r - z0) * beta).sigmoid()) * desirableWeight
        let lossUndesirable = (1 - ((z0 - r) * beta).sigmoid()) * undesirableWeight
        let losses = lossDesirable * desirable + lossUndesirable * (1 - desirable)
        let rewards = r.scalars.map { $0 * beta }, logps = policy.sums.scalars
        func mean(_ keep: Bool, _ x: [Float]) -> Double? {
            let picked = zip(labels, x).filter { $0.0 == keep }.map(\.1)
            return picked.isEmpty ? nil : picked.reduce(0.0) { $0 + Double($1) } / Double(picked.count)
        }
        var metrics: [String: Double] = ["kl": Double(z0)]
        metrics["rewards/chosen"] = mean(true, rewards)
        metrics["rewards/rejected"] = mean(false, rewards)
        metrics["logps/chosen"] = mean(true, logps)
        metrics["logps/rejected"] = mean(false, logps)
        return ObjectiveOutput(loss: losses.mean(), metrics: metrics)
    }
}
