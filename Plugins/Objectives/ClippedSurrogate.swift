import TemperCore

/// PPO's clipped surrogate (Schulman et al. 2017, arXiv 1707.06347, eq. 7), the policy term of
/// rloo, reinforce-plus-plus, remax and ppo:
///
///     L = −min(ρ·A, clip(ρ, 1 − ε_low, 1 + ε_high)·A),   ρ = exp(log π_θ − log π_old)
///
/// elementwise over tokens (`[batch, seq]`) or sequences (`[batch]`). On the first pass over a
/// rollout batch ρ = 1 and its gradient is A·∇log π_θ, plain REINFORCE; the clip only acts on
/// later passes (`num_iterations` > 1), where π_θ has moved away from the π_old that sampled.
struct ClippedSurrogate {
    /// The elementwise loss, recorded by autograd through `logprobs`.
    var loss: Tensor
    /// Elements where the clip removed the gradient from below (ρ < 1 − ε_low, A < 0) or above
    /// (ρ > 1 + ε_high, A > 0): TRL's `clip_ratio/low` and `clip_ratio/high`.
    var lowClipped: [Bool], highClipped: [Bool]

    /// The surrogate of `logprobs` (differentiable) against the constants `oldLogprobs` and
    /// `advantages`, all of one shape.
    init(logprobs: Tensor, oldLogprobs: Tensor, advantages: Tensor, epsilonLow: Float, epsilonHigh: Float) {
        let ratio = (logprobs - oldLogprobs.detached()).exp()
        let unclipped = ratio * advantages
        let clipped = ratio.clamp(min: 1 - epsilonLow, max: 1 + epsilonHigh) * advantages
        loss = -Self.minimum(unclipped, clipped)
        let rho = ratio.scalars, a = advantages.scalars
        lowClipped = zip(rho, a).map { $0 < 1 - epsilonLow && $1 < 0 }
        highClipped = zip(rho, a).map { $0 > 1 + epsilonHigh && $1 > 0 }
    }

    /// Share of the elements `weights` selects (non-zero) where `flags` is set; 0 when none is selected.
    static func share(_ flags: [Bool], weights: [Float]) -> Double {
        var hit = 0.0, total = 0.0
        for (f, w) in zip(flags, weights) where w != 0 { total += 1; if f { hit += 1 } }
        return total == 0 ? 0 : hit / total
    }

    /// min(a, b) elementwise; the gradient goes to the side that was smaller (to `a` on ties).
    static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let pick = zip(a.scalars, b.scalars).map { $0 <= $1 ? Float(1) : 0 }
        return Tensor.where(Tensor(shape: a.shape, scalars: pick), a, b)
    }

    /// max(a, b) elementwise; the gradient goes to the side that was larger (to `a` on ties).
    static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let pick = zip(a.scalars, b.scalars).map { $0 >= $1 ? Float(1) : 0 }
        return Tensor.where(Tensor(shape: a.shape, scalars: pick), a, b)
    }
}
