import TemperCore

/// REINFORCE Leave-One-Out (Kool et al. 2019; Ahmadian et al. 2024, arXiv 2402.14740), with TRL
/// RLOOTrainer's names, defaults and KL handling (METHODS.md RL-RLOO).
///
/// Per completion i of a group of G samples of one prompt:
///
///     KL_i  = Σ_t (log π_old − log π_ref)(y_t)          k1, summed over the completion
///     r'_i  = r_i − β·KL_i                               KL folded into the reward
///     A_i   = r'_i − 1/(G−1) · Σ_{j≠i} r'_j              leave-one-out baseline
///     L     = mean_i −min(ρ_i·A_i, clip(ρ_i, 1−ε, 1+ε_high)·A_i),  ρ_i = π_θ(y_i)/π_old(y_i)
///
/// with sequence-level ratios (sums of token log-probs), as TRL computes them. A completion alone
/// in its group gets A = 0. `normalize_advantages` whitens A over the batch: (A − mean)/(std + 1e-4).
/// Advantages are fixed once per rollout batch in `prepare`, so later passes (`num_iterations` > 1)
/// reuse them while ρ departs from 1.
public final class RLOO: Objective {
    /// Registered name.
    public static let name = "rloo"
    /// One-line summary for `temper plugins`.
    public static let summary = "RLOO: REINFORCE with a leave-one-out baseline over each prompt's completions, KL to the reference folded into the reward (TRL RLOOTrainer)"
    /// TRL RLOOConfig's settings.
    public static let parameters: [ParameterSpec] = [
        .float("beta", default: 0.05, range: .atLeast(0), aliases: ["kl_coef"],
               doc: "weight of the sequence KL (k1, old policy vs reference) subtracted from the reward; 0 needs no reference model"),
        .float("epsilon", default: 0.2, range: .greaterThan(0), aliases: ["cliprange"], doc: "lower clip of the sequence ratio: 1 − epsilon"),
        .float("epsilon_high", default: 0, range: .atLeast(0), doc: "upper clip of the ratio: 1 + epsilon_high; 0 means epsilon"),
        .bool("normalize_advantages", default: false, doc: "whiten the advantages over the rollout batch: (A − mean) / (std + 1e-4)"),
        .bool("mask_truncated_completions", default: false, doc: "drop completions cut at max_completion_length from the loss and the KL"),
    ]

    /// RLOO trains on rollouts.
    public var inputKind: ObjectiveInputKind { .rollouts }
    /// The loss is a mean over sequences.
    public var lossWeighting: LossWeighting { .sequences }
    /// A reference model only for the KL penalty.
    public var needsReference: Bool { beta > 0 }

    let beta: Float
    let epsilonLow: Float
    let epsilonHigh: Float
    let normalizeAdvantages: Bool
    let maskTruncated: Bool

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        beta = try config.float("beta")
        epsilonLow = try config.float("epsilon")
        let high = try config.float("epsilon_high")
        epsilonHigh = high == 0 ? epsilonLow : high
        normalizeAdvantages = try config.bool("normalize_advantages")
        maskTruncated = try config.bool("mask_truncated_completions")
    }

    /// Fixes the advantages of the whole rollout batch (`extra["advantages"]`, `[batch]`) and each
    /// row's summed KL (`extra["kl"]`). A row no reward scored (NaN) is left out of its group's
    /// baseline and gets advantage 0, as in TRL.
    public func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws {
        try RolloutTensors.validate(rollouts, objective: Self.name)
        if maskTruncated { RolloutTensors.dropRows(&rollouts, rollouts.truncated) }
        let kl = try TokenRewards.kl(.k1, beta: beta, &rollouts, context: context, objective: Self.name).map { $0.reduce(0, +) }
        let rewards = zip(rollouts.rewards, kl).map { r, k in r - beta * k }
        var advantages = Advantages.leaveOneOut(rewards, groupIndex: rollouts.groupIndex)
        // TRL whitens the scored rows only; unscored ones stay at 0.
        if normalizeAdvantages { advantages = Advantages.whitened(zip(advantages, rewards).map { $1.isNaN ? .nan : $0 }) }
        rollouts.extra["advantages"] = Tensor(advantages)
        rollouts.extra["kl"] = Tensor(kl)
    }

    /// The clipped sequence-level surrogate, logging `kl` (per completion token), `entropy`, the
    /// clip shares and the advantages' mean.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        let r = try RolloutTensors.rollouts(input, objective: Self.name)
        guard let advantages = r.extra["advantages"], let kl = r.extra["kl"] else {
            throw SpecError("rloo: the rollouts were not prepared (extra holds no advantages); the host must call prepare once per rollout batch")
        }
        let policy = try RolloutTensors.logprobs(of: context.policy, r, entropies: true)
        let logps = policy.logprobs.sum(axis: 1)
        // Without π_old (one pass over fresh samples) π_old = sg[π_θ]: ρ = 1 with the gradient of log π_θ.
        let oldLogps = r.oldLogprobs.map { ($0 * r.completionMask).sum(axis: 1) } ?? logps.detached()
        let surrogate = ClippedSurrogate(logprobs: logps, oldLogprobs: oldLogps, advantages: advantages,
                                         epsilonLow: epsilonLow, epsilonHigh: epsilonHigh)
        let rows = [Float](repeating: 1, count: r.rowCount)
        let tokens = r.completionMask.scalars.reduce(0, +)
        let clipped = zip(surrogate.lowClipped, surrogate.highClipped).map { $0 || $1 }
        return ObjectiveOutput(loss: surrogate.loss.mean(), metrics: [
            "kl": Double(kl.scalars.reduce(0, +) / max(tokens, 1)),
            "entropy": Double(RolloutTensors.maskedMean(policy.entropies!, r.completionMask).item),
            "clip_ratio/low_mean": ClippedSurrogate.share(surrogate.lowClipped, weights: rows),
            "clip_ratio/high_mean": ClippedSurrogate.share(surrogate.highClipped, weights: rows),
            "clip_ratio/region_mean": ClippedSurrogate.share(clipped, weights: rows),
            "advantages_mean": Double(advantages.scalars.reduce(0, +)) / Double(rows.count),
        ])
    }
}
