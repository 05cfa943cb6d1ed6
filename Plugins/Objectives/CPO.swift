import TemperCore

/// The losses TRL's CPOTrainer offers under `loss_type`.
enum CPOLossType: String, CaseIterable {
    case sigmoid, hinge, ipo, simpo
}

/// Contrastive Preference Optimization (Xu et al. 2024, arXiv 2401.08417, Eq. 3), reference-free, as
/// TRL's CPOTrainer computes it: with h = log π(y_w|x) − log π(y_l|x) (summed log-probabilities;
/// per-token means for ipo and simpo),
/// - sigmoid: −(1 − ε)·log σ(β·h) − ε·log σ(−β·h);
/// - hinge: max(0, 1 − β·h);
/// - ipo: (h − 1/(2β))²;
/// - simpo (Meng et al. 2024, arXiv 2405.14734): h ← h − γ/β, then as sigmoid;
/// plus α · NLL of the chosen completions (mean over their tokens). Rewards are β·log π(y|x).
public final class CPO: Objective {
    /// Registered name.
    public static let name = "cpo"
    /// One-line summary for `temper plugins`.
    public static let summary = "contrastive preference optimization: reference-free preference loss on pairs plus cpo_alpha × NLL of the chosen completion"
    /// TRL's CPOConfig names and defaults.
    public static let parameters: [ParameterSpec] = [
        .float("beta", default: 0.1, range: .greaterThan(0), doc: "β: scale of the log-probability difference"),
        .choice("loss_type", CPOLossType.allCases.map(\.rawValue), default: "sigmoid",
                doc: "sigmoid (CPO), hinge, ipo (per-token means), simpo (per-token means minus simpo_gamma/β)"),
        .float("label_smoothing", default: 0, range: .halfOpen(0, 0.5), doc: "ε: assumed probability of a flipped preference (sigmoid, simpo)"),
        .float("cpo_alpha", default: 1, range: .atLeast(0), doc: "α: weight of the chosen completions' NLL"),
        .float("simpo_gamma", default: 0.5, range: .atLeast(0), doc: "γ: target reward margin for loss_type=simpo"),
    ]

    /// CPO trains on dataset batches of pairs.
    public var inputKind: ObjectiveInputKind { .batches }
    /// One loss per pair.
    public var lossWeighting: LossWeighting { .sequences }

    let settings: ReferenceFreePreference

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        settings = ReferenceFreePreference(objective: Self.name, beta: try config.float("beta"),
                                           lossType: CPOLossType(rawValue: try config.string("loss_type"))!,
                                           labelSmoothing: try config.float("label_smoothing"), alpha: try config.float("cpo_alpha"),
                                           gamma: try config.float("simpo_gamma"))
        try settings.validate()
    }

    /// The mean loss over the batch's pairs, with TRL's metrics and `nll_loss`.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        try settings.loss(input, context: context)
    }
}

/// The loss CPO and SimPO share (TRL's `cpo_loss` + `cpo_alpha` × NLL).
struct ReferenceFreePreference {
    let objective: String
    let beta: Float
    let lossType: CPOLossType
    let labelSmoothing: Float
    let alpha: Float
    let gamma: Float

    func validate() throws {
        if labelSmoothing > 0, lossType == .hinge || lossType == .ipo {
            throw SpecError("\(objective): label_smoothing applies to loss_type sigmoid or simpo, not \(lossType.rawValue)")
        }
    }

    func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { throw SpecError("\(objective): expects dataset batches, got rollouts") }
        let n = try batch.preferencePairCount(objective: objective)
        let policy = try SequenceLogProbs(model: context.policy, batch: batch)
        let normalized = lossType == .ipo || lossType == .simpo
        let logps = normalized ? policy.means : policy.sums
        let (chosen, rejected) = logps.pairHalves(n)
        var h = chosen - rejected
        if lossType == .simpo { h = h - gamma / beta }
        let losses: Tensor
        switch lossType {
        case .sigmoid, .simpo:
            let clean: Tensor = (h * beta).logSigmoid() * -(1 - labelSmoothing)
            losses = clean - (h * -beta).logSigmoid() * labelSmoothing
        case .hinge:
            losses = (1 - h * beta).clamp(min: 0)
        case .ipo:
            losses = (h - 1 / (2 * beta)).pow(2)
        }
        let nll = policy.chosenNLL(pairs: n)
        let loss = alpha == 0 ? losses.mean() : losses.mean() + nll * alpha
        var metrics = preferenceMetrics(chosenRewards: chosen.scalars.map { $0 * beta }, rejectedRewards: rejected.scalars.map { $0 * beta },
                                        chosenLogps: chosen.scalars, rejectedLogps: rejected.scalars)
        metrics["nll_loss"] = Double(nll.item)
        return ObjectiveOutput(loss: loss, metrics: metrics)
    }
}
