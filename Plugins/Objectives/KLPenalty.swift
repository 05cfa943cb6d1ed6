import Foundation
import TemperCore

/// Per-token estimators of KL(π_θ ‖ π_ref) from the log-probs of the sampled tokens (Schulman,
/// "Approximating KL divergence", 2020), with d = log π_θ − log π_ref:
/// k1 = d (unbiased, can be negative), k2 = d²/2, k3 = exp(−d) − 1 + d (unbiased, ≥ 0).
enum KLEstimator: String, CaseIterable {
    case k1, k2, k3

    /// The estimate per element of `[batch, seq]` log-probs, recorded by autograd through both.
    func callAsFunction(_ logprobs: Tensor, _ reference: Tensor) -> Tensor {
        let d = logprobs - reference
        switch self {
        case .k1: return d
        case .k2: return d * d * 0.5
        case .k3: return (-d).exp() - 1 + d
        }
    }

    /// The estimate for one token.
    func callAsFunction(_ logprob: Float, _ reference: Float) -> Float {
        let d = logprob - reference
        switch self {
        case .k1: return d
        case .k2: return d * d / 2
        case .k3: return Foundation.expf(-d) - 1 + d
        }
    }
}

/// The KL to the reference as a loss term on the current policy (OpenRLHF `--use_kl_loss`, the
/// placement GRPO uses) instead of a penalty in the reward:
///
///     L_KL = β · mean_t clamp(k(log π_θ(y_t), log π_ref(y_t)), −bound, bound)
///
/// the mean over the micro-batch's completion tokens, as OpenRLHF's `masked_mean`.
struct KLLossTerm {
    /// β.
    var beta: Float
    /// k1 | k2 | k3.
    var estimator: KLEstimator
    /// Each token's estimate is clamped to [−bound, bound] (no gradient outside).
    var bound: Float

    /// OpenRLHF's `compute_approx_kl` clamps every estimate to [−10, 10]: one token whose
    /// log-ratio has run far (k3 grows as exp(−d)) cannot swamp the batch.
    static let openRLHFBound: Float = 10

    /// The scalar term for the completion tokens `mask` selects, recorded by autograd through
    /// `logprobs` (the reference's are constants); also the plain mean KL, for logging.
    func callAsFunction(logprobs: Tensor, reference: Tensor, mask: Tensor) -> (loss: Tensor, meanKL: Double) {
        let kl = RolloutTensors.maskedMean(estimator(logprobs, reference.detached()).clamp(min: -bound, max: bound), mask)
        return (kl * beta, Double(kl.item))
    }
}

/// KL in the reward, as RLHF puts it (Ziegler et al. 2019, arXiv 1909.08593; Ouyang et al. 2022):
/// each completion token t earns r_t = −β·KL_t, and the last completion token also earns the
/// sequence's score. Shared by reinforce-plus-plus, remax and ppo.
enum TokenRewards {
    /// Per row and column: −β·KL_t on completion tokens, plus `scores[b]` on the row's last
    /// completion token; 0 elsewhere. `kl` and `mask` are `[batch][seq]` rows.
    static func shaped(scores: [Float], kl: [[Float]], mask: [[Float]], beta: Float) -> [[Float]] {
        zip(scores, zip(kl, mask)).map { score, pair in
            let (klRow, maskRow) = pair
            var r = zip(klRow, maskRow).map { k, m in m != 0 ? -beta * k : 0 }
            if let last = maskRow.lastIndex(where: { $0 != 0 }) { r[last] += score }
            return r
        }
    }

    /// Per-token KL estimates of the completion tokens, old policy against the reference (both
    /// filled in where the host left them out), `[batch][seq]` with 0 outside the mask; all 0 when
    /// `beta` is 0, which needs no reference. With a `bound`, each estimate is clamped to
    /// [−bound, bound] (OpenRLHF's `compute_approx_kl`).
    static func kl(_ estimator: KLEstimator, beta: Float, bound: Float? = nil, _ r: inout RolloutBatch, context: ObjectiveContext,
                   objective: String) throws -> [[Float]] {
        let mask = RolloutTensors.rows(r.completionMask)
        guard beta > 0 else { return mask.map { [Float](repeating: 0, count: $0.count) } }
        try RolloutTensors.fillKLLogprobs(&r, context: context, objective: objective)
        let old = RolloutTensors.rows(r.oldLogprobs!), reference = RolloutTensors.rows(r.referenceLogprobs!)
        let limit = bound ?? .infinity
        return zip(zip(old, reference), mask).map { pair, maskRow in
            zip(zip(pair.0, pair.1), maskRow).map { lr, m in m != 0 ? min(max(estimator(lr.0, lr.1), -limit), limit) : 0 }
        }
    }

    /// Discounted reward-to-go G_t = Σ_{s ≥ t} γ^{s−t} r_s over the completion tokens of each row
    /// (REINFORCE's return; OpenRLHF's `get_cumulative_returns`), 0 outside the mask.
    static func rewardToGo(_ rewards: [[Float]], mask: [[Float]], gamma: Float) -> [[Float]] {
        zip(rewards, mask).map { r, m in
            var out = [Float](repeating: 0, count: r.count)
            var running: Float = 0
            for t in stride(from: r.count - 1, through: 0, by: -1) where m[t] != 0 {
                running = r[t] + gamma * running
                out[t] = running
            }
            return out
        }
    }
}
