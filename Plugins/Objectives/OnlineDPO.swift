import TemperCore

/// The losses TRL's OnlineDPOConfig `loss_type` names.
enum OnlineDPOLossType: String, CaseIterable {
    case sigmoid, ipo
}

/// Online DPO (Guo et al. 2024, "Direct Language Model Alignment from Online AI Feedback", arXiv
/// 2402.04792), with TRL OnlineDPOTrainer's names and defaults (METHODS.md §5.3).
///
/// Each prompt gets two completions sampled from the current policy (`num_generations` = 2);
/// the reward functions (or a trained reward model, `reward-model:path=DIR`) score both, the
/// higher-scored one is y_w and the other y_l, and the pair takes a DPO step. With summed
/// completion log-probabilities, as TRL computes them for online DPO,
///
///     h = [log π(y_w|x) − log π_ref(y_w|x)] − [log π(y_l|x) − log π_ref(y_l|x)]
///     sigmoid: ℓ = −log σ(β·h)              (DPO, Rafailov et al. 2023, Eq. 7)
///     ipo:     ℓ = (h − 1/(2β))²            (IPO, Azar et al. 2023, Eq. 17; β is τ)
///
/// A pair whose two rewards are equal, or that no reward scored, says nothing about which
/// completion is better (TRL would call the first one chosen): it is skipped and counted
/// (`pairs/skipped`). The loss is the sum over the decided pairs divided by all the micro-batch's
/// pairs, so that a skipped pair weighs like a pair with zero loss under the host's row weighting,
/// as a GRPO group with equal rewards does. The reference is the base model with adapters off
/// under PEFT, else a frozen copy; its log-probabilities come with the rollouts.
///
/// Truncated completions, as TRL treats them: a completion that stopped at `max_completion_length`
/// without an end-of-sequence token has `missing_eos_penalty` subtracted from its reward before
/// the pair is labelled (TRL OnlineDPOConfig; off at 0, TRL's None), and the share that did end is
/// logged as `val/contain_eos_token`.
public final class OnlineDPO: Objective {
    /// Registered name.
    public static let name = "online-dpo"
    /// One-line summary for `temper plugins`.
    public static let summary = "online DPO: two sampled completions per prompt, the higher-reward one chosen, a DPO (sigmoid or ipo) step against the reference (TRL OnlineDPOTrainer)"
    /// TRL OnlineDPOConfig's loss settings.
    public static let parameters: [ParameterSpec] = [
        .float("beta", default: 0.1, range: .greaterThan(0), doc: "β: how far the policy may move from the reference (IPO's τ for loss_type=ipo)"),
        .choice("loss_type", OnlineDPOLossType.allCases.map(\.rawValue), default: "sigmoid",
                doc: "sigmoid (DPO) or ipo (squared), both on summed completion log-probs"),
        .float("missing_eos_penalty", default: 0, range: .atLeast(0),
               doc: "subtracted from the reward of a completion cut at max_completion_length without an end-of-sequence token; 0 = off"),
    ]

    /// Online DPO trains on rollouts.
    public var inputKind: ObjectiveInputKind { .rollouts }
    /// One loss per pair.
    public var lossWeighting: LossWeighting { .sequences }
    /// The reference policy.
    public var needsReference: Bool { true }

    let beta: Float
    let lossType: OnlineDPOLossType
    let missingEOSPenalty: Float

    /// Reads β, the loss type and the missing-EOS penalty.
    public init(config: ComponentConfig) throws {
        beta = try config.float("beta")
        guard let type = OnlineDPOLossType(rawValue: try config.string("loss_type")) else {
            throw SpecError("online-dpo: loss_type must be sigmoid or ipo")
        }
        lossType = type
        missingEOSPenalty = try config.float("missing_eos_penalty")
    }

    /// Subtracts `missing_eos_penalty` from the rewards of truncated rows, marks each row chosen
    /// (+1), rejected (−1) or skipped (0) in `extra["preference"]` (`[batch]`) from its pair's
    /// rewards, and fills the reference log-probabilities when the host left them out.
    public func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws {
        try RolloutTensors.validate(rollouts, objective: Self.name)
        for (row, cut) in rollouts.truncated.enumerated() where cut { rollouts.rewards[row] -= missingEOSPenalty }
        let r = rollouts.rewards
        var preference = [Float](repeating: 0, count: rollouts.rowCount)
        for (a, b) in try Self.pairs(rollouts.groupIndex, wholeBatch: true) where !r[a].isNaN && !r[b].isNaN && r[a] != r[b] {
            preference[a] = r[a] > r[b] ? 1 : -1
            preference[b] = -preference[a]
        }
        rollouts.extra["preference"] = Tensor(preference)
        if rollouts.referenceLogprobs == nil {
            guard let reference = context.reference else {
                throw SpecError("online-dpo: needs the reference model's log-probs, but the rollouts carry none and no reference model is set")
            }
            let batch = rollouts
            rollouts.referenceLogprobs = try withNoGrad { try withEvalMode { try RolloutTensors.logprobs(of: reference, batch).logprobs } }
        }
    }

    /// The mean DPO loss over the micro-batch's pairs, with TRL's `rewards/*` and `logps/*`
    /// metrics over the decided pairs, `objective/scores_margin` (mean reward of y_w − y_l) and
    /// the skipped pairs' count and share.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        let r = try RolloutTensors.rollouts(input, objective: Self.name)
        guard let preference = r.extra["preference"]?.scalars, let referenceLogprobs = r.referenceLogprobs else {
            throw SpecError("online-dpo: the rollouts were not prepared (extra holds no preference); the host must call prepare once per rollout batch")
        }
        let pairs = try Self.pairs(r.groupIndex, wholeBatch: false)
        let decided = pairs.compactMap { a, b -> (chosen: Int, rejected: Int)? in
            preference[a] == 0 ? nil : (preference[a] > 0 ? (a, b) : (b, a))
        }
        let skipped = Double(pairs.count - decided.count)
        var metrics = ["pairs/skipped": skipped, "pairs/skipped_fraction": skipped / Double(pairs.count)]
        if !r.truncated.isEmpty { metrics["val/contain_eos_token"] = Double(r.truncated.filter { !$0 }.count) / Double(r.truncated.count) }
        guard !decided.isEmpty else { return ObjectiveOutput(loss: Tensor(scalar: 0), metrics: metrics) }

        let policy = try RolloutTensors.logprobs(of: context.policy, r).logprobs.sum(axis: 1)           // log π(y|x), [B]
        let reference = (referenceLogprobs * r.completionMask).sum(axis: 1)                             // log π_ref(y|x), [B]
        let ratios = policy - reference
        // h_p = ratio(y_w) − ratio(y_l): one row of a [pairs, B] selection matrix per decided pair.
        var select = [Float](repeating: 0, count: decided.count * r.rowCount)
        for (p, pair) in decided.enumerated() {
            select[p * r.rowCount + pair.chosen] = 1
            select[p * r.rowCount + pair.rejected] = -1
        }
        let h = Tensor(shape: [decided.count, r.rowCount], scalars: select).matmul(ratios.reshape([r.rowCount, 1])).reshape([decided.count])
        let losses: Tensor
        switch lossType {
        case .sigmoid: losses = -(h * beta).logSigmoid()
        case .ipo: losses = (h - 1 / (2 * beta)).pow(2)
        }

        let ratio = ratios.scalars, logps = policy.scalars
        metrics.merge(preferenceMetrics(chosenRewards: decided.map { beta * ratio[$0.chosen] }, rejectedRewards: decided.map { beta * ratio[$0.rejected] },
                                        chosenLogps: decided.map { logps[$0.chosen] }, rejectedLogps: decided.map { logps[$0.rejected] })) { $1 }
        metrics["objective/scores_margin"] = decided.reduce(0.0) { $0 + Double(r.rewards[$1.chosen] - r.rewards[$1.rejected]) } / Double(decided.count)
        return ObjectiveOutput(loss: losses.sum() / Float(pairs.count), metrics: metrics)
    }

    /// The row pairs of `groupIndex`, in order of first appearance. Every group must hold exactly
    /// two rows: in the whole generation batch (num_generations = 2) and in each micro-batch (both
    /// completions of a prompt train together).
    static func pairs(_ groupIndex: [Int], wholeBatch: Bool) throws -> [(Int, Int)] {
        var rows: [Int: [Int]] = [:], order: [Int] = []
        for (row, g) in groupIndex.enumerated() {
            if rows[g] == nil { order.append(g) }
            rows[g, default: []].append(row)
        }
        return try order.map { g in
            let members = rows[g, default: []]
            guard members.count == 2 else {
                throw SpecError(wholeBatch
                    ? "online-dpo: prompt group \(g) holds \(members.count) completions; online DPO compares pairs: set num_generations=2"
                    : "online-dpo: a micro-batch holds \(members.count) of prompt group \(g)'s 2 completions; per_device_train_batch_size must be even so that a pair trains together")
            }
            return (members[0], members[1])
        }
    }
}
