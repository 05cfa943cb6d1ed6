import TemperCore

/// PPO for language models (Schulman et al. 2017, arXiv 1707.06347; GAE, Schulman et al. 2015,
/// arXiv 1506.02438; RLHF reward shaping and the adaptive KL controller, Ziegler et al. 2019,
/// arXiv 1909.08593), with TRL PPOConfig's names and defaults (METHODS.md RL-PPO, RL-RLHF).
///
/// A value head V(s_t) = w·h_{t−1} + b reads the policy's last hidden state before token t (the
/// position whose logits predict it), so one trunk pass feeds both heads. Per completion token t,
/// once per rollout batch (`prepare`, no gradients):
///
///     r_t  = −β·KL_t  (+ score on the last completion token)       KL_t = k(log π_old, log π_ref)
///     δ_t  = r_t + γ·V_old(s_{t+1}) − V_old(s_t)                    V after the last token = 0
///     A_t  = δ_t + γλ·A_{t+1}                                       GAE
///     R_t  = A_t + V_old(s_t)                                       value target
///     Â_t  = (A_t − mean(A)) / sqrt(var(A) + 1e-8)                  whitened over the batch
///
/// and per micro-batch (`loss`), with ρ_t = π_θ(y_t)/π_old(y_t) and masked token means:
///
///     L_pg = mean −min(ρ_t·Â_t, clip(ρ_t, 1 ± cliprange)·Â_t)
///     L_vf = ½·mean max((V − R)², (V_old + clip(V − V_old, ± cliprange_value) − R)²)
///     L    = L_pg + vf_coef·L_vf
///
/// The PPO epochs are the loop's `num_iterations` (TRL's `num_ppo_epochs`): each reuses the batch's
/// fixed advantages, returns and old values. After the batch's rewards are shaped, the adaptive
/// controller moves β towards a target KL: e = clip(KL/target − 1, ±0.2), β ← β·(1 + e·n/horizon),
/// with KL the batch's mean summed KL per completion and n its number of completions.
///
/// β is the objective's checkpointed state (`checkpointState()`, `kl_ctl.value` in
/// `trainer_state.json`'s `objective_state`): a resumed run's controller goes on from the β the
/// interrupted run had reached, and β is never among the trained (or exported) parameters.
public final class PPO: Objective {
    /// Registered name.
    public static let name = "ppo"
    /// One-line summary for `temper plugins`.
    public static let summary = "PPO: clipped policy and value losses, value head on the policy's last hidden state, GAE, KL penalty in the reward with an adaptive controller (TRL PPOConfig)"
    /// TRL PPOConfig's settings (the adaptive controller's from its classic PPOConfig).
    public static let parameters: [ParameterSpec] = [
        .float("kl_coef", default: 0.05, range: .atLeast(0), aliases: ["init_kl_coef", "beta"],
               doc: "initial weight β of the per-token KL penalty in the reward; 0 needs no reference model"),
        .choice("kl_estimator", KLEstimator.allCases.map(\.rawValue), default: KLEstimator.k1.rawValue,
                doc: "per-token KL estimate: k1 = log-ratio, k2 = log-ratio²/2, k3 = exp(−log-ratio) − 1 + log-ratio"),
        .bool("adap_kl_ctrl", default: false,
              doc: "adapt β towards `target` after every rollout batch (Ziegler et al.; classic TRL); off = a fixed β as in TRL today"),
        .float("target", default: 6, range: .greaterThan(0), doc: "the adaptive controller's target KL per completion (not TRL's early-stopping target_kl)"),
        .float("horizon", default: 10000, range: .greaterThan(0), doc: "the adaptive controller's horizon: completions per unit of relative change"),
        .float("cliprange", default: 0.2, range: .greaterThan(0), aliases: ["epsilon"], doc: "policy ratio clip: [1 − cliprange, 1 + cliprange]"),
        .float("cliprange_value", default: 0.2, range: .greaterThan(0), doc: "how far a value may move from the old value before its loss is clipped"),
        .float("vf_coef", default: 0.1, range: .atLeast(0), doc: "weight of the value loss"),
        .float("gamma", default: 1, range: .closed(0, 1), doc: "discount factor"),
        .float("lam", default: 0.95, range: .closed(0, 1), aliases: ["lambda"], doc: "GAE's λ"),
        .bool("whiten_rewards", default: false, doc: "scale the token rewards to unit variance over the batch (mean kept) before GAE"),
        .bool("mask_truncated_completions", default: false, doc: "drop completions cut at max_completion_length from the losses"),
    ]

    /// PPO trains on rollouts.
    public var inputKind: ObjectiveInputKind { .rollouts }
    /// Both losses are token means.
    public var lossWeighting: LossWeighting { .tokens }
    /// A reference model only for the KL penalty.
    public var needsReference: Bool { initialKLCoefficient > 0 }

    let initialKLCoefficient: Float
    let estimator: KLEstimator
    let adaptive: Bool
    let target: Float
    let horizon: Float
    let cliprange: Float
    let cliprangeValue: Float
    let vfCoef: Float
    let gamma: Float
    let lam: Float
    let whitenRewards: Bool
    let maskTruncated: Bool
    /// β, the KL controller's state (`kl_ctl.value`).
    private(set) var klCoefficient: Float
    /// `v_head.weight` `[1, hidden]` and `v_head.bias` `[1]`, made by `makeParameters`.
    private(set) var valueHead: (weight: Tensor, bias: Tensor)?

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        initialKLCoefficient = try config.float("kl_coef")
        estimator = try KLEstimator(rawValue: config.string("kl_estimator")) ?? .k1
        adaptive = try config.bool("adap_kl_ctrl")
        target = try config.float("target")
        horizon = try config.float("horizon")
        cliprange = try config.float("cliprange")
        cliprangeValue = try config.float("cliprange_value")
        vfCoef = try config.float("vf_coef")
        gamma = try config.float("gamma")
        lam = try config.float("lam")
        whitenRewards = try config.bool("whiten_rewards")
        maskTruncated = try config.bool("mask_truncated_completions")
        klCoefficient = initialKLCoefficient
    }

    /// The value head, initialised as PyTorch's `nn.Linear(hidden, 1)` (uniform in ±1/√hidden)
    /// from the run's seed.
    public func makeParameters(for model: ObjectiveModelInfo) throws -> [NamedParameter] {
        guard model.hiddenSize > 0 else { throw SpecError("ppo: the model reports a hidden size of \(model.hiddenSize)") }
        var rng = PhiloxRNG(seed: model.seed &+ 0x7661_6c75_6568_6561)  // "valuehea": apart from the run's other streams
        let bound = 1 / Float(model.hiddenSize).squareRoot()
        let weight = Tensor.uniform([1, model.hiddenSize], low: -bound, high: bound, rng: &rng, requiresGrad: true)
        let bias = Tensor.uniform([1], low: -bound, high: bound, rng: &rng, requiresGrad: true)
        valueHead = (weight, bias)
        return [NamedParameter(name: "v_head.weight", tensor: weight), NamedParameter(name: "v_head.bias", tensor: bias)]
    }

    /// The name of β in checkpoints (classic TRL's `kl_ctl.value`).
    static let klStateKey = "kl_ctl.value"

    /// β, for the checkpoint.
    public func checkpointState() -> [String: Double] { [Self.klStateKey: Double(klCoefficient)] }

    /// β from a checkpoint (a Float written as a Double comes back bit for bit).
    public func restoreState(_ state: [String: Double]) throws {
        guard let beta = state[Self.klStateKey], beta.isFinite, beta >= 0 else {
            throw SpecError("ppo: the checkpoint's objective_state has no valid \(Self.klStateKey) (the KL coefficient β), got \(state); " +
                            "it was written by another objective or an older Temper")
        }
        klCoefficient = Float(beta)
    }

    /// V(s_t) at `[b, t]` for token t, read from the hidden state at t − 1; column 0 is 0.
    func values(hidden: Tensor) throws -> Tensor {
        let head = try madeValueHead()
        guard hidden.rank == 3, hidden.shape[2] == head.weight.shape[1] else {
            throw SpecError("ppo: hidden states \(hidden.shape) do not match the value head's width \(head.weight.shape[1])")
        }
        let b = hidden.shape[0], t = hidden.shape[1]
        let v = hidden.linear(head.weight, bias: head.bias).reshape([b, t])
        return Tensor.concat([Tensor.zeros([b, 1]), v.narrow(1, start: 0, length: t - 1)], axis: 1)
    }

    /// The value head, or an error when the host never called `makeParameters`.
    func madeValueHead() throws -> (weight: Tensor, bias: Tensor) {
        guard let valueHead else { throw SpecError("ppo: no value head; the host must call makeParameters(for:) before training") }
        return valueHead
    }

    /// One trunk pass of `policy` over the rollouts: the completion tokens' log-probs (at the
    /// sampling temperature) and their values, both 0 outside the completion mask.
    func policyPass(_ policy: any TrainableLanguageModel, _ r: RolloutBatch, entropies: Bool) throws -> (Tensor, CompletionLogProbs.Result) {
        _ = try madeValueHead()
        let tap = HiddenStateTap(policy)
        let scored = try RolloutTensors.logprobs(of: tap, r, entropies: entropies)
        // No completion token: CompletionLogProbs made no pass, and there is no value to read.
        guard let hidden = tap.hidden else { return (Tensor.zeros(r.inputIDs.shape), scored) }
        return (try values(hidden: hidden) * r.completionMask, scored)
    }

    /// Computes the old values, shaped rewards, GAE advantages (whitened) and returns of the whole
    /// rollout batch into `extra` (`old_values`, `advantages`, `returns`: `[batch, seq]`; `kl`,
    /// `kl_coef`: `[batch]`), then lets the controller update β.
    public func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws {
        try RolloutTensors.validate(rollouts, objective: Self.name)
        RolloutTensors.dropRows(&rollouts, RolloutTensors.unusable(rollouts, maskTruncated: maskTruncated))
        let r = rollouts
        let pass = try RolloutTensors.inChunks(r) { part in
            let (values, scored) = try policyPass(context.policy, part, entropies: false)
            return [values, scored.logprobs]
        }
        let oldValues = pass[0]
        if rollouts.oldLogprobs == nil { rollouts.oldLogprobs = pass[1] }
        let beta = klCoefficient
        let kl = try TokenRewards.kl(estimator, beta: beta, &rollouts, context: context, objective: Self.name)
        let mask = RolloutTensors.rows(rollouts.completionMask)
        // Unscored rows have no completion tokens left; their NaN must not reach the statistics.
        var rewards = TokenRewards.shaped(scores: rollouts.rewards.map { $0.isNaN ? 0 : $0 }, kl: kl, mask: mask, beta: beta)
        // TRL's `masked_whiten`: rsqrt(var + 1e-8), Bessel's correction; rewards keep their mean (shift_mean=False).
        if whitenRewards { rewards = RolloutTensors.whitened(rewards, mask: mask, scale: .sampleVariancePlus(1e-8), keepMean: true) }
        let valueRows = RolloutTensors.rows(oldValues)
        let advantages = Self.gae(rewards: rewards, values: valueRows, mask: mask, gamma: gamma, lam: lam)
        let returns = zip(advantages, valueRows).map { a, v in zip(a, v).map(+) }
        rollouts.extra["old_values"] = oldValues
        rollouts.extra["advantages"] = RolloutTensors.tensor(RolloutTensors.whitened(advantages, mask: mask, scale: .sampleVariancePlus(1e-8)))
        rollouts.extra["returns"] = RolloutTensors.tensor(returns)
        let klPerRow = kl.map { $0.reduce(0, +) }
        rollouts.extra["kl"] = Tensor(klPerRow)
        rollouts.extra["kl_coef"] = Tensor([Float](repeating: beta, count: klPerRow.count))
        // Only completions the losses see count: a dropped row (unscored, or masked as truncated)
        // has no tokens and a KL of 0, which would bias β downward.
        let counted = mask.indices.filter { mask[$0].contains { $0 != 0 } }
        if adaptive && beta > 0 && !counted.isEmpty {
            klCoefficient = Self.adaptedCoefficient(beta, kl: counted.reduce(0) { $0 + klPerRow[$1] } / Float(counted.count),
                                                    target: target, completions: counted.count, horizon: horizon)
        }
    }

    /// Ziegler et al.'s update: β·(1 + clip(KL/target − 1, −0.2, 0.2)·n/horizon).
    static func adaptedCoefficient(_ beta: Float, kl: Float, target: Float, completions: Int, horizon: Float) -> Float {
        let error = min(max(kl / target - 1, -0.2), 0.2)
        return beta * (1 + error * Float(completions) / horizon)
    }

    /// GAE over each row's completion tokens, from the last backwards.
    static func gae(rewards: [[Float]], values: [[Float]], mask: [[Float]], gamma: Float, lam: Float) -> [[Float]] {
        zip(zip(rewards, values), mask).map { rv, m in
            let (r, v) = rv
            var out = [Float](repeating: 0, count: r.count)
            var next: (value: Float, advantage: Float) = (0, 0)
            for t in stride(from: r.count - 1, through: 0, by: -1) where m[t] != 0 {
                let delta = r[t] + gamma * next.value - v[t]
                out[t] = delta + gamma * lam * next.advantage
                next = (v[t], out[t])
            }
            return out
        }
    }

    /// The combined loss, logging TRL's `loss/policy_avg`, `loss/value_avg`, `policy/clipfrac_avg`,
    /// `val/clipfrac_avg`, `policy/approxkl_avg`, `objective/kl`, `objective/kl_coef`, and
    /// `val/explained_variance` (1 − Var(R − V)/Var(R) over the micro-batch's completion tokens).
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        let r = try RolloutTensors.rollouts(input, objective: Self.name)
        guard let oldValues = r.extra["old_values"], let advantages = r.extra["advantages"], let returns = r.extra["returns"],
              let old = r.oldLogprobs, let kl = r.extra["kl"], let klCoef = r.extra["kl_coef"] else {
            throw SpecError("ppo: the rollouts were not prepared (extra holds no old_values / advantages / returns); the host must call prepare once per rollout batch")
        }
        let mask = r.completionMask
        let (v, scored) = try policyPass(context.policy, r, entropies: true)
        let logprobs = scored.logprobs
        let policy = ClippedSurrogate(logprobs: logprobs, oldLogprobs: old, advantages: advantages, epsilonLow: cliprange, epsilonHigh: cliprange)
        let policyLoss = RolloutTensors.maskedMean(policy.loss, mask)
        let clippedV = oldValues + (v - oldValues).clamp(min: -cliprangeValue, max: cliprangeValue)
        let unclippedError = (v - returns).pow(2), clippedError = (clippedV - returns).pow(2)
        let valueLoss = RolloutTensors.maskedMean(ClippedSurrogate.maximum(unclippedError, clippedError), mask) * 0.5
        let loss = policyLoss + valueLoss * vfCoef

        let weights = mask.scalars
        let rows = Double(kl.count)
        return ObjectiveOutput(loss: loss, metrics: [
            "loss/policy_avg": Double(policyLoss.item),
            "loss/value_avg": Double(valueLoss.item),
            "policy/clipfrac_avg": ClippedSurrogate.share(zip(policy.lowClipped, policy.highClipped).map { $0 || $1 }, weights: weights),
            "val/clipfrac_avg": ClippedSurrogate.share(zip(clippedError.scalars, unclippedError.scalars).map { $0 > $1 }, weights: weights),
            "policy/approxkl_avg": Double(RolloutTensors.maskedMean((logprobs.detached() - old).pow(2) * 0.5, mask).item),
            "objective/kl": Double(kl.scalars.reduce(0, +)) / rows,
            "policy/entropy_avg": Double(RolloutTensors.maskedMean(scored.entropies!, mask).item),
            "objective/kl_coef": Double(klCoef.scalars.reduce(0, +)) / rows,
            "val/explained_variance": Self.explainedVariance(returns: returns, values: v, mask: mask),
        ])
    }

    /// 1 − Var(R − V)/Var(R) over the completion tokens (population variances); 0 when Var(R) is 0.
    static func explainedVariance(returns: Tensor, values: Tensor, mask: Tensor) -> Double {
        func variance(_ x: Tensor) -> Double {
            let mean = RolloutTensors.maskedMean(x, mask).item
            return Double(RolloutTensors.maskedMean((x - mean).pow(2), mask).item)
        }
        let total = variance(returns)
        return total == 0 ? 0 : 1 - variance(returns - values.detached()) / total
    }
}
