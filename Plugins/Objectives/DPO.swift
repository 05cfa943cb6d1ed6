import TemperCore

/// The DPO losses TRL's `loss_type` names.
enum DPOLossType: String, CaseIterable {
    case sigmoid, hinge, ipo, robust
}

/// Direct Preference Optimization (Rafailov et al. 2023, arXiv 2305.18290) and its variants on the
/// same log-ratios, as TRL 1.x's DPOTrainer computes them. With
/// h = log π(y_w|x) − log π_ref(y_w|x) − (log π(y_l|x) − log π_ref(y_l|x)):
/// - sigmoid: −log σ(β·h); with label_smoothing ε the conservative form (cDPO, Mitchell 2023)
///   −(1 − ε)·log σ(β·h) − ε·log σ(−β·h);
/// - hinge (SLiC, Zhao et al. 2023): max(0, 1 − β·h);
/// - ipo (Azar et al. 2023, arXiv 2310.12036, Eq. 17): (h̄ − 1/(2β))², h̄ on per-token mean
///   log-ratios, as TRL normalises it (β is IPO's τ);
/// - robust (Chowdhury et al. 2024, arXiv 2403.00409): (−(1 − ε)·log σ(β·h) + ε·log σ(−β·h)) / (1 − 2ε).
///
/// Chosen and rejected go through the policy in one batch (rows 0..<n and n..<2n); the reference
/// is the base model with adapters off under PEFT (no second copy) or a frozen copy under full
/// fine-tuning, or log-probabilities computed once before training (`precompute_ref_log_probs`).
/// The implicit rewards β·(log π − log π_ref) give TRL's `rewards/*` metrics.
public final class DPO: Objective {
    /// Registered name.
    public static let name = "dpo"
    /// One-line summary for `temper plugins`.
    public static let summary = "direct preference optimization on prompt/chosen/rejected pairs: sigmoid (cDPO with label_smoothing), hinge, ipo or robust loss against a reference"
    /// TRL's DPOConfig names and defaults.
    public static let parameters: [ParameterSpec] = [
        .float("beta", default: 0.1, range: .greaterThan(0), doc: "β: how far the policy may move from the reference (IPO's τ for loss_type=ipo)"),
        .choice("loss_type", DPOLossType.allCases.map(\.rawValue), default: "sigmoid",
                doc: "sigmoid (DPO), hinge (SLiC), ipo (squared, per-token), robust (noisy labels, with label_smoothing)"),
        .float("label_smoothing", default: 0, range: .halfOpen(0, 0.5),
               doc: "ε: assumed probability that a pair's preference is flipped (sigmoid: cDPO; robust)"),
    ]

    /// DPO trains on dataset batches of pairs.
    public var inputKind: ObjectiveInputKind { .batches }
    /// One loss per pair, whatever its length.
    public var lossWeighting: LossWeighting { .sequences }
    /// The reference policy.
    public var needsReference: Bool { true }

    let beta: Float
    let lossType: DPOLossType
    let labelSmoothing: Float

    /// Reads β, the loss type and ε; ε with hinge or ipo is an error (they have no smoothing).
    public init(config: ComponentConfig) throws {
        beta = try config.float("beta")
        lossType = DPOLossType(rawValue: try config.string("loss_type"))!
        labelSmoothing = try config.float("label_smoothing")
        if labelSmoothing > 0, lossType == .hinge || lossType == .ipo {
            throw SpecError("dpo: label_smoothing applies to loss_type sigmoid or robust, not \(lossType.rawValue)")
        }
    }

    /// The mean loss over the batch's pairs, with TRL's metrics.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { throw SpecError("dpo: expects dataset batches, got rollouts") }
        let n = try batch.preferencePairCount(objective: Self.name)
        let policy = try SequenceLogProbs(model: context.policy, batch: batch)
        let reference = try referenceLogProbs(batch, context: context, objective: Self.name)
        let ratios = policy.sums - reference                       // log π(y|x) − log π_ref(y|x), [2n]
        let (chosen, rejected) = ratios.pairHalves(n)
        let h = chosen - rejected
        let eps = labelSmoothing
        // log σ(β·h) and log σ(−β·h): the clean and the flipped preference's log-likelihoods.
        let clean = (h * beta).logSigmoid(), flipped = (h * -beta).logSigmoid()
        let losses: Tensor
        switch lossType {
        case .sigmoid:
            losses = eps == 0 ? -clean : clean * -(1 - eps) - flipped * eps
        case .hinge:
            losses = (1 - h * beta).clamp(min: 0)
        case .ipo:
            let perToken = ratios / policy.counts
            let (c, r) = perToken.pairHalves(n)
            losses = ((c - r) - 1 / (2 * beta)).pow(2)
        case .robust:
            let numerator: Tensor = clean * -(1 - eps) + flipped * eps
            losses = numerator / (1 - 2 * eps)
        }
        let logps = policy.sums.scalars
        let metrics = preferenceMetrics(chosenRewards: chosen.scalars.map { $0 * beta }, rejectedRewards: rejected.scalars.map { $0 * beta },
                                        chosenLogps: Array(logps[..<n]), rejectedLogps: Array(logps[n...]))
        return ObjectiveOutput(loss: losses.mean(), metrics: metrics)
    }
}
