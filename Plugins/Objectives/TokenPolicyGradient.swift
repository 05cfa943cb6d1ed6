import TemperCore

/// The loss step that reinforce-plus-plus and remax share once `prepare` has fixed per-token advantages
/// (`extra["advantages"]`, `[batch, seq]`): the clipped surrogate of `ClippedSurrogate`, averaged
/// over the micro-batch's completion tokens (OpenRLHF's token-level loss).
enum TokenPolicyGradient {
    /// The loss and its metrics: `kl` (the per-token KL of `extra["kl"]`, if present, or of the
    /// `klLoss` term), `entropy`, the clip shares and the advantages' token mean. With `klLoss`
    /// the loss is the surrogate's token mean plus that term, on the rollouts' reference log-probs.
    static func loss(_ input: ObjectiveInput, context: ObjectiveContext, objective: String,
                     epsilonLow: Float, epsilonHigh: Float, klLoss: KLLossTerm? = nil) throws -> ObjectiveOutput {
        let r = try RolloutTensors.rollouts(input, objective: objective)
        guard let advantages = r.extra["advantages"] else {
            throw SpecError("\(objective): the rollouts were not prepared (extra holds no advantages); the host must call prepare once per rollout batch")
        }
        let mask = r.completionMask
        let policy = try RolloutTensors.logprobs(of: context.policy, r, entropies: true)
        // Without π_old (one pass over fresh samples) π_old = sg[π_θ]: ρ = 1 with the gradient of log π_θ.
        let surrogate = ClippedSurrogate(logprobs: policy.logprobs, oldLogprobs: r.oldLogprobs ?? policy.logprobs.detached(),
                                         advantages: advantages, epsilonLow: epsilonLow, epsilonHigh: epsilonHigh)
        let weights = mask.scalars
        let tokens = Double(weights.reduce(0, +))
        var metrics: [String: Double] = [
            "entropy": Double(RolloutTensors.maskedMean(policy.entropies!, mask).item),
            "clip_ratio/low_mean": ClippedSurrogate.share(surrogate.lowClipped, weights: weights),
            "clip_ratio/high_mean": ClippedSurrogate.share(surrogate.highClipped, weights: weights),
            "clip_ratio/region_mean": ClippedSurrogate.share(zip(surrogate.lowClipped, surrogate.highClipped).map { $0 || $1 }, weights: weights),
            "advantages_mean": Double(zip(advantages.scalars, weights).reduce(0) { $0 + $1.0 * $1.1 }) / max(tokens, 1),
        ]
        if let kl = r.extra["kl"] { metrics["kl"] = Double(kl.scalars.reduce(0, +)) / max(tokens, 1) }
        var loss = RolloutTensors.maskedMean(surrogate.loss, mask)
        if let klLoss {
            guard let reference = r.referenceLogprobs else {
                throw SpecError("\(objective): use_kl_loss needs the reference model's log-probs, but the rollouts carry none; the host must call prepare once per rollout batch")
            }
            let term = klLoss(logprobs: policy.logprobs, reference: reference, mask: mask)
            loss = loss + term.loss
            metrics["kl"] = term.meanKL
        }
        return ObjectiveOutput(loss: loss, metrics: metrics)
    }
}
