import TemperCore

/// Simple Preference Optimization (Meng et al. 2024, arXiv 2405.14734, Eq. 6), reference-free:
/// L = −log σ(β/|y_w|·log π(y_w|x) − β/|y_l|·log π(y_l|x) − γ), the length-normalised log-likelihood
/// margin against a target γ. TRL runs it as `CPOConfig(loss_type="simpo", cpo_alpha=0)`; this
/// component is that, with the paper's β = 2 as default (TRL's CPO default 0.1 suits summed
/// log-probabilities, not per-token means) and TRL's `simpo_gamma`.
public final class SimPO: Objective {
    /// Registered name.
    public static let name = "simpo"
    /// One-line summary for `temper plugins`.
    public static let summary = "SimPO: reference-free, length-normalized log-likelihood margin with target margin simpo_gamma"
    /// β, γ, ε and the optional NLL weight.
    public static let parameters: [ParameterSpec] = [
        .float("beta", default: 2, range: .greaterThan(0), doc: "β: scale of the per-token mean log-probabilities (paper: 2–2.5)"),
        .float("simpo_gamma", default: 0.5, range: .atLeast(0), doc: "γ: target reward margin"),
        .float("label_smoothing", default: 0, range: .halfOpen(0, 0.5), doc: "ε: assumed probability of a flipped preference"),
        .float("cpo_alpha", default: 0, range: .atLeast(0), doc: "α: weight of an added NLL of the chosen completions (CPO-SimPO)"),
    ]

    /// SimPO trains on dataset batches of pairs.
    public var inputKind: ObjectiveInputKind { .batches }
    /// One loss per pair.
    public var lossWeighting: LossWeighting { .sequences }

    let settings: ReferenceFreePreference

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        settings = ReferenceFreePreference(objective: Self.name, beta: try config.float("beta"), lossType: .simpo,
                                           labelSmoothing: try config.float("label_smoothing"), alpha: try config.float("cpo_alpha"),
                                           gamma: try config.float("simpo_gamma"))
    }

    /// The mean loss over the batch's pairs, with TRL's metrics.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        try settings.loss(input, context: context)
    }
}
