import Foundation
import TemperCore

/// How GRPO's per-token losses are averaged into one number (TRL's `loss_type`).
public enum GRPOLossType: String, CaseIterable {
    /// Mean over sequences of each sequence's token mean (DeepSeekMath 2402.03300): the 1/|o_i| term.
    case grpo
    /// Token sum over the micro-batch divided by its token count, micro-batches averaged alike.
    case bnpo
    /// Token sum divided by rows × max_completion_length, a constant (Dr. GRPO 2503.20783): no length bias.
    case drGRPO = "dr_grpo"
    /// Token sum over the whole generation batch divided by its token count (DAPO 2503.14476).
    case dapo
}

/// Group Relative Policy Optimization (Shao et al., DeepSeekMath 2402.03300), with the Dr. GRPO,
/// DAPO and BNPO aggregations and DAPO's clip-higher, under TRL's names and defaults.
///
/// For completion o_i of prompt q (a group of G rows), token t:
///
///     Â_i      = (r_i − mean(r_group)) / (std(r_group) + 1e-4)       (scale_rewards = group)
///     ρ_{i,t}  = π_θ(o_{i,t} | q, o_{i,<t}) / π_old(o_{i,t} | …)
///     ℓ_{i,t}  = −min(ρ·Â, clip(ρ, 1 − ε_low, 1 + ε_high)·Â) + β·D_KL
///     D_KL     = π_ref/π_θ − log(π_ref/π_θ) − 1                       (k3, Schulman 2020)
///
/// then averaged by `loss_type`. Log-probabilities are read at the sampling temperature. With
/// `num_iterations` = 1 the host passes no π_old and ρ = exp(log π_θ − sg[log π_θ]) = 1 with the
/// gradient of log π_θ, as TRL does. Advantages are computed once per generation batch in
/// `prepare` (so `scale_rewards = batch` sees the whole batch, and later micro-batches and
/// iterations reuse them). Dynamic sampling and the group structure come from the host's loop.
public final class GRPO: Objective {
    /// Registered name.
    public static let name = "grpo"
    /// One-line summary for `temper plugins`.
    public static let summary = "GRPO (DeepSeekMath) with Dr. GRPO / DAPO / BNPO aggregation, clip-higher and a k3 KL to the reference"
    /// TRL GRPOConfig's names and defaults.
    public static let parameters: [ParameterSpec] = [
        .float("beta", default: 0, range: .atLeast(0), doc: "weight of the k3 KL to the reference; 0 loads no reference (TRL's default)"),
        .float("epsilon", default: 0.2, range: .greaterThan(0), doc: "lower clip ε_low of the ratio, clip(ρ, 1 − ε, 1 + ε_high)"),
        .float("epsilon_high", default: 0, range: .atLeast(0),
               doc: "upper clip ε_high (DAPO's clip-higher, 0.28 in the paper); 0 means equal to epsilon (TRL's None)"),
        .choice("loss_type", GRPOLossType.allCases.map(\.rawValue), default: GRPOLossType.dapo.rawValue,
                doc: "aggregation: grpo (per-sequence mean), bnpo (micro-batch token mean), dr_grpo (÷ rows·max_completion_length), dapo (generation-batch token mean)"),
        .choice("scale_rewards", RewardScaling.allCases.map(\.rawValue), default: RewardScaling.group.rawValue,
                doc: "divide advantages by the group's std, the batch's, or not at all (Dr. GRPO)"),
        .bool("mask_truncated_completions", default: false, doc: "exclude completions cut by max_completion_length from the loss (DAPO)"),
        .float("top_entropy_quantile", default: 1, range: .closed(0, 1),
               doc: "train only on tokens whose entropy is in this top fraction of the batch's (Wang et al. 2506.01939); 1 keeps all"),
    ]

    /// GRPO trains on rollouts.
    public var inputKind: ObjectiveInputKind { .rollouts }
    /// DAPO's generation-batch token mean is what token weighting of micro-batch token means gives;
    /// the others average equal-sized micro-batches.
    public var lossWeighting: LossWeighting { lossType == .dapo ? .tokens : .sequences }
    /// A reference only when the KL term is on.
    public var needsReference: Bool { beta != 0 }

    let beta: Float
    let epsilonLow: Float
    let epsilonHigh: Float
    let lossType: GRPOLossType
    let scaling: RewardScaling
    let maskTruncated: Bool
    let topEntropyQuantile: Float

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        beta = try config.float("beta")
        epsilonLow = try config.float("epsilon")
        let high = try config.float("epsilon_high")
        epsilonHigh = high == 0 ? epsilonLow : high
        lossType = GRPOLossType(rawValue: try config.string("loss_type"))!
        scaling = RewardScaling(rawValue: try config.string("scale_rewards"))!
        maskTruncated = try config.bool("mask_truncated_completions")
        topEntropyQuantile = try config.float("top_entropy_quantile")
    }

    /// Key of the per-row advantages `prepare` stores in `RolloutBatch.extra`, `[batch]`.
    static let advantagesKey = "advantages"

    /// Computes Â over the whole generation batch (rows no reward scored get 0, as in TRL) and,
    /// under `mask_truncated_completions`, removes truncated rows from the loss via the completion mask.
    public func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws {
        let n = rollouts.rowCount
        guard rollouts.rewards.count == n, rollouts.groupIndex.count == n else {
            throw SpecError("grpo: \(rollouts.rewards.count) rewards and \(rollouts.groupIndex.count) group indices for \(n) rows")
        }
        let advantages = Advantages.groupRelative(rollouts.rewards, groupIndex: rollouts.groupIndex, scaling: scaling)
        if maskTruncated, rollouts.truncated.contains(true) {
            let keep: [Float] = (0..<n).map { $0 < rollouts.truncated.count && rollouts.truncated[$0] ? 0 : 1 }
            rollouts.completionMask = rollouts.completionMask * Tensor(shape: [n, 1], scalars: keep)
        }
        rollouts.extra[Self.advantagesKey] = Tensor(shape: [n], scalars: advantages)
    }

    /// The clipped surrogate with the KL term, aggregated by `loss_type`; logs `kl`, `entropy` and
    /// `clip_ratio/low_mean`, `/high_mean`, `/region_mean` as TRL does (token means over the mask).
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .rollouts(let r) = input else { throw SpecError("grpo: expects rollouts, got a dataset batch") }
        guard let adv = r.extra[Self.advantagesKey], adv.shape == [r.rowCount] else {
            throw SpecError("grpo: the rollout batch has no advantages; prepare(_:context:) must run on it before loss")
        }
        let b = r.rowCount
        let mask = r.completionMask
        let policy = try CompletionLogProbs.compute(model: context.policy, inputIDs: r.inputIDs, attentionMask: r.attentionMask,
                                                    mask: mask, temperature: r.temperature, entropies: true)
        let logp = policy.logprobs
        let entropies = policy.entropies!
        // ρ = π_θ / π_old; without π_old (one iteration on fresh samples) π_old = sg[π_θ], so ρ = 1
        // with the gradient of log π_θ. The row's advantage applies to each of its tokens.
        let perTokenAdvantage = adv.reshape([b, 1]) * Tensor.ones(mask.shape)
        let surrogate = ClippedSurrogate(logprobs: logp, oldLogprobs: r.oldLogprobs ?? logp.detached(), advantages: perTokenAdvantage,
                                         epsilonLow: epsilonLow, epsilonHigh: epsilonHigh)
        var perToken = surrogate.loss
        var trainMask = mask
        if topEntropyQuantile < 1 {
            trainMask = mask * Self.highEntropyMask(entropies, mask: mask, quantile: topEntropyQuantile)
        }
        var klMean = 0.0
        if beta != 0 {
            guard let ref = r.referenceLogprobs else {
                throw SpecError("grpo: beta=\(beta) needs the reference's log-probabilities, and the rollout batch has none")
            }
            // k3: π_ref/π_θ − log(π_ref/π_θ) − 1, ≥ 0, unbiased for KL(π_θ ‖ π_ref).
            let k3 = KLEstimator.k3
            let kl = k3(logp, ref)
            klMean = Double(RolloutTensors.maskedMean(kl, mask).item)
            perToken = perToken + kl * beta
        }
        let masked = perToken * trainMask
        let tokens = trainMask.scalars.reduce(0, +)
        let loss: Tensor
        switch lossType {
        case .grpo:
            let perRow = masked.sum(axis: 1) / trainMask.sum(axis: 1).clamp(min: 1)
            loss = perRow.mean()
        case .bnpo, .dapo:
            loss = masked.sum() / max(tokens, 1)
        case .drGRPO:
            let maxLength = r.maxCompletionLength > 0 ? r.maxCompletionLength : Self.longestCompletion(mask)
            loss = masked.sum() / Float(b * max(maxLength, 1))
        }
        let weights = mask.scalars
        let low = ClippedSurrogate.share(surrogate.lowClipped, weights: weights), high = ClippedSurrogate.share(surrogate.highClipped, weights: weights)
        return ObjectiveOutput(loss: loss, metrics: [
            "kl": klMean, "entropy": Double(RolloutTensors.maskedMean(entropies, mask).item),
            "clip_ratio/low_mean": low, "clip_ratio/high_mean": high, "clip_ratio/region_mean": low + high,
        ])
    }

    /// 1 on masked tokens whose entropy reaches the (1 − q)-quantile of the masked entropies
    /// (linear interpolation, as `torch.quantile`), 0 elsewhere: TRL's `get_high_entropy_mask`.
    static func highEntropyMask(_ entropies: Tensor, mask: Tensor, quantile q: Float) -> Tensor {
        let e = entropies.scalars, m = mask.scalars
        let values = e.indices.filter { m[$0] != 0 }.map { e[$0] }.sorted()
        guard !values.isEmpty else { return Tensor.zeros(mask.shape) }
        let position = Double(1 - q) * Double(values.count - 1)
        let lo = Int(position.rounded(.down)), hi = min(lo + 1, values.count - 1)
        let threshold = values[lo] + Float(position - Double(lo)) * (values[hi] - values[lo])
        return Tensor(shape: mask.shape, scalars: e.indices.map { m[$0] != 0 && e[$0] >= threshold ? 1 : 0 })
    }

    /// The most completion tokens any row has.
    static func longestCompletion(_ mask: Tensor) -> Int {
        let width = mask.shape[1], m = mask.scalars
        return (0..<mask.shape[0]).map { r in Int(m[(r * width)..<((r + 1) * width)].reduce(0, +)) }.max() ?? 0
    }
}
