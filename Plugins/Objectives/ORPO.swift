import TemperCore

/// Odds Ratio Preference Optimization (Hong et al. 2024, arXiv 2403.07691, Eq. 6–7), reference-free,
/// as TRL's ORPOTrainer computes it: with P(y|x) = exp(mean token log-probability) and
/// odds(y|x) = P/(1 − P),
/// L = NLL(y_w) − λ · log σ(log odds(y_w|x) − log odds(y_l|x)),
/// NLL the mean over the chosen completions' tokens; λ is TRL's `beta`. Rewards are β·mean log π.
public final class ORPO: Objective {
    /// Registered name.
    public static let name = "orpo"
    /// One-line summary for `temper plugins`.
    public static let summary = "odds ratio preference optimization: NLL of the chosen completion minus beta × log-sigmoid of the log odds ratio"
    /// TRL's ORPOConfig name and default.
    public static let parameters: [ParameterSpec] = [
        .float("beta", default: 0.1, range: .greaterThan(0), aliases: ["lambda"], doc: "λ: weight of the odds-ratio term"),
    ]

    /// ORPO trains on dataset batches of pairs.
    public var inputKind: ObjectiveInputKind { .batches }
    /// One loss per pair.
    public var lossWeighting: LossWeighting { .sequences }

    let beta: Float

    /// Reads λ.
    public init(config: ComponentConfig) throws { beta = try config.float("beta") }

    /// The loss, with TRL's metrics, `nll_loss`, `log_odds_ratio` (mean log σ(·)) and `log_odds_chosen`.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { throw SpecError("orpo: expects dataset batches, got rollouts") }
        let n = try batch.preferencePairCount(objective: Self.name)
        let policy = try SequenceLogProbs(model: context.policy, batch: batch)
        let (chosen, rejected) = policy.means.pairHalves(n)
        // log odds(y) = log P − log(1 − P), log P the mean token log-probability (< 0).
        func logOdds(_ logP: Tensor) -> Tensor { logP - (1 - logP.exp()).log() }
        let logOddsRatio = logOdds(chosen) - logOdds(rejected)
        let ratio = logOddsRatio.logSigmoid()
        let nll = policy.chosenNLL(pairs: n)
        let loss = nll - ratio.mean() * beta
        var metrics = preferenceMetrics(chosenRewards: chosen.scalars.map { $0 * beta }, rejectedRewards: rejected.scalars.map { $0 * beta },
                                        chosenLogps: chosen.scalars, rejectedLogps: rejected.scalars)
        metrics["nll_loss"] = Double(nll.item)
        metrics["log_odds_ratio"] = Double(ratio.mean().item)
        metrics["log_odds_chosen"] = Double(logOddsRatio.mean().item)
        return ObjectiveOutput(loss: loss, metrics: metrics)
    }
}
