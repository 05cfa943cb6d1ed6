import TemperCore

/// ReMax (Li et al. 2023, arXiv 2310.10505; METHODS.md RL-REMAX): REINFORCE whose baseline is
/// the reward of the prompt's greedy completion (SCST, Rennie et al. 2016, for RLHF), no critic.
///
///     A_t = Σ_{s≥t} −β·KL_s  +  r(x, y) − r(x, ŷ_greedy)      KL_s = log π_old(y_s) − log π_ref(y_s)
///     L   = mean_t −min(ρ_t·A_t, clip(ρ_t, 1−ε, 1+ε)·A_t)     token mean
///
/// With ρ = 1 (one pass per rollout batch) the gradient is the paper's Σ_t ∇log π(y_t)·A. The
/// host generates the greedy completions and scores them (`needsGreedyBaseline`); the KL penalty
/// (off by default, as in the paper's Algorithm 1) enters the sampled completion's return only.
public final class ReMax: Objective {
    /// Registered name.
    public static let name = "remax"
    /// One-line summary for `temper plugins`.
    public static let summary = "ReMax: REINFORCE with the reward of each prompt's greedy completion as the baseline, no critic"
    /// The settings.
    public static let parameters: [ParameterSpec] = [
        .float("beta", default: 0, range: .atLeast(0), aliases: ["kl_coef"],
               doc: "weight of the per-token KL (k1, old policy vs reference) subtracted in the return; 0 needs no reference model"),
        .float("epsilon", default: 0.2, range: .greaterThan(0), aliases: ["cliprange"],
               doc: "ratio clip [1 − epsilon, 1 + epsilon], active only when a rollout batch is reused (num_iterations > 1)"),
        .bool("mask_truncated_completions", default: false, doc: "drop completions cut at max_completion_length from the loss"),
    ]

    /// ReMax trains on rollouts.
    public var inputKind: ObjectiveInputKind { .rollouts }
    /// A reference model only for the KL penalty.
    public var needsReference: Bool { beta > 0 }
    /// The baseline is the greedy completion's reward.
    public var needsGreedyBaseline: Bool { true }

    let beta: Float
    let epsilon: Float
    let maskTruncated: Bool

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        beta = try config.float("beta")
        epsilon = try config.float("epsilon")
        maskTruncated = try config.bool("mask_truncated_completions")
    }

    /// Fixes the per-token advantages (`extra["advantages"]`, `[batch, seq]`) and each row's summed
    /// KL (`extra["kl"]`) of the whole rollout batch. Rows where the sample or the greedy
    /// completion went unscored (NaN) are dropped from the loss.
    public func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws {
        try RolloutTensors.validate(rollouts, objective: Self.name)
        guard let greedy = rollouts.baselineRewards else {
            throw SpecError("remax: the rollouts carry no greedy-baseline rewards (baselineRewards); the host must score each prompt's greedy completion")
        }
        let unscored = zip(RolloutTensors.unusable(rollouts, maskTruncated: maskTruncated), greedy).map { $0 || $1.isNaN }
        RolloutTensors.dropRows(&rollouts, unscored)
        let mask = RolloutTensors.rows(rollouts.completionMask)
        let kl = try TokenRewards.kl(.k1, beta: beta, &rollouts, context: context, objective: Self.name)
        let scores = zip(zip(rollouts.rewards, greedy), unscored).map { $1 ? 0 : $0.0 - $0.1 }
        let advantages = TokenRewards.rewardToGo(TokenRewards.shaped(scores: scores, kl: kl, mask: mask, beta: beta), mask: mask, gamma: 1)
        rollouts.extra["advantages"] = RolloutTensors.tensor(advantages)
        rollouts.extra["kl"] = Tensor(kl.map { $0.reduce(0, +) })
    }

    /// The token-mean surrogate, logging `kl`, the clip shares and the advantages' mean.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        try TokenPolicyGradient.loss(input, context: context, objective: Self.name, epsilonLow: epsilon, epsilonHigh: epsilon)
    }
}
