import TemperCore

/// REINFORCE++ (Hu 2025, arXiv 2501.03262), with OpenRLHF's names and defaults (METHODS.md RL-RPP):
/// PPO's clipped surrogate without a critic, the KL to the reference as a per-token penalty in
/// the reward, and advantages normalized over the whole rollout batch. Registered as
/// `reinforce-plus-plus`: component names allow no '+' (verl spells it `reinforce_plus_plus`).
///
///     KL_t = k(log π_old(y_t), log π_ref(y_t))                  k1 | k2 | k3 (`kl_estimator`)
///     r_t  = −β·KL_t  (+ s on the last completion token)        s = r, or r − mean_group(r) for
///                                                               `reinforce_baseline`
///     A_t  = Σ_{s≥t} γ^{s−t} r_s                                reward-to-go
///     Â_t  = (A_t − mean(A)) / sqrt(max(var(A), 1e-8))          over every completion token of the batch
///     L    = mean_t −min(ρ_t·Â_t, clip(ρ_t, 1−ε, 1+ε)·Â_t)      token mean
///
/// The normalization statistics are those of the whole rollout batch, fixed in `prepare`. Each
/// KL_t is clamped to [−10, 10] as OpenRLHF's `compute_approx_kl` does. With `use_kl_loss`
/// (OpenRLHF's option, GRPO's placement) the reward carries no KL (r_t is the score alone) and
/// the loss gains β · mean_t clamp(k(log π_θ(y_t), log π_ref(y_t)), ±10) on the current policy.
public final class ReinforcePlusPlus: Objective {
    /// Registered name.
    public static let name = "reinforce-plus-plus"
    /// One-line summary for `temper plugins`.
    public static let summary = "REINFORCE++: clipped policy gradient without a critic, token-level KL penalty in the reward, advantages normalized over the batch (OpenRLHF)"
    /// OpenRLHF's settings.
    public static let parameters: [ParameterSpec] = [
        .float("beta", default: 0.01, range: .atLeast(0), aliases: ["init_kl_coef", "kl_coef"],
               doc: "weight of the per-token KL penalty in the reward; 0 needs no reference model"),
        .choice("kl_estimator", KLEstimator.allCases.map(\.rawValue), default: KLEstimator.k1.rawValue,
                doc: "per-token KL estimate: k1 = log-ratio, k2 = log-ratio²/2, k3 = exp(−log-ratio) − 1 + log-ratio"),
        .float("epsilon", default: 0.2, range: .greaterThan(0), aliases: ["eps_clip", "cliprange"], doc: "ratio clip: [1 − epsilon, 1 + epsilon]"),
        .float("gamma", default: 1, range: .closed(0, 1), doc: "discount of the reward-to-go"),
        .choice("advantage_estimator", ["reinforce", "reinforce_baseline"], default: "reinforce",
                doc: "reinforce: the reward as is; reinforce_baseline: minus the mean reward of the prompt's completions first"),
        .bool("mask_truncated_completions", default: false, doc: "drop completions cut at max_completion_length from the loss and the statistics"),
        .bool("use_kl_loss", default: false,
              doc: "put the KL to the reference in the loss (β·token mean of the estimate under the current policy) instead of −β·KL_t in the reward"),
    ]

    /// REINFORCE++ trains on rollouts.
    public var inputKind: ObjectiveInputKind { .rollouts }
    /// A reference model only for the KL penalty.
    public var needsReference: Bool { beta > 0 }

    let beta: Float
    let estimator: KLEstimator
    let epsilon: Float
    let gamma: Float
    let groupBaseline: Bool
    let maskTruncated: Bool
    let useKLLoss: Bool

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        beta = try config.float("beta")
        estimator = try KLEstimator(rawValue: config.string("kl_estimator")) ?? .k1
        epsilon = try config.float("epsilon")
        gamma = try config.float("gamma")
        groupBaseline = try config.string("advantage_estimator") == "reinforce_baseline"
        maskTruncated = try config.bool("mask_truncated_completions")
        useKLLoss = try config.bool("use_kl_loss")
    }

    /// Fixes the normalized per-token advantages of the whole batch (`extra["advantages"]`,
    /// `[batch, seq]`) and, with the KL in the reward, each row's summed KL (`extra["kl"]`,
    /// `[batch]`); with `use_kl_loss`, the reference log-probs the loss term reads instead. Rows
    /// no reward scored (and truncated ones, when asked) are dropped from the loss and the statistics.
    public func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws {
        try RolloutTensors.validate(rollouts, objective: Self.name)
        RolloutTensors.dropRows(&rollouts, RolloutTensors.unusable(rollouts, maskTruncated: maskTruncated))
        let mask = RolloutTensors.rows(rollouts.completionMask)
        let rewardBeta = useKLLoss ? 0 : beta
        let kl = try TokenRewards.kl(estimator, beta: rewardBeta, bound: KLLossTerm.openRLHFBound, &rollouts, context: context, objective: Self.name)
        if useKLLoss && beta > 0 { try RolloutTensors.fillKLLogprobs(&rollouts, context: context, objective: Self.name) }
        var scores = rollouts.rewards
        if groupBaseline { scores = zip(scores, Advantages.groupMeans(scores, groupIndex: rollouts.groupIndex)).map { $0 - $1 } }
        // Unscored rows have no completion tokens left; their NaN must not reach the statistics.
        scores = scores.map { $0.isNaN ? 0 : $0 }
        let returns = TokenRewards.rewardToGo(TokenRewards.shaped(scores: scores, kl: kl, mask: mask, beta: rewardBeta), mask: mask, gamma: gamma)
        // OpenRLHF: (A − mean)·rsqrt(max(var, 1e-8)) over every completion token of the batch, population variance.
        rollouts.extra["advantages"] = RolloutTensors.tensor(RolloutTensors.whitened(returns, mask: mask, scale: .populationVarianceAtLeast(1e-8)))
        if !useKLLoss { rollouts.extra["kl"] = Tensor(kl.map { $0.reduce(0, +) }) }
    }

    /// The token-mean clipped surrogate (plus the KL term with `use_kl_loss`), logging `kl` (per
    /// completion token) and the clip shares.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        let klLoss = useKLLoss && beta > 0 ? KLLossTerm(beta: beta, estimator: estimator, bound: KLLossTerm.openRLHFBound) : nil
        return try TokenPolicyGradient.loss(input, context: context, objective: Self.name, epsilonLow: epsilon, epsilonHigh: epsilon, klLoss: klLoss)
    }
}
