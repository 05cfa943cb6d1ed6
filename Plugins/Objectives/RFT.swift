import TemperCore

/// Rejection-sampling fine-tuning, which also covers STaR's and ReST-EM's inner loop (Yuan et al.
/// 2023, arXiv 2308.01825; Zelikman et al. 2022, arXiv 2203.14465; Singh et al. 2023, arXiv
/// 2312.06585; METHODS.md FT-RFT, FT-STAR, FT-REST): sample → verify with a reward → keep the
/// completions whose reward reaches the threshold → supervised fine-tuning on them. With
/// `rationalization=true` (STaR §3.2) the loop asks a problem none of whose samples reached the
/// threshold again with its answer as a hint (`hint_template`, the answer from `hint_column`) and
/// puts those completions in the group under the *original* prompt, so the kept rationalizations
/// are trained on without the hint (`Rationalization`). Not covered: RFT's deduplication by
/// reasoning path (here: by tokens).
///
///     keep_i = [r_i ≥ threshold], at most `max_per_prompt` per prompt (highest rewards first),
///              identical completions of one prompt kept once (`deduplicate`, RFT's distinct paths)
///     L      = −Σ_i keep_i Σ_t log π_θ(y_{i,t}) / Σ_i keep_i·|y_i|        NLL over kept tokens
///
/// How rounds map onto the loop: one round is one rollout batch. The host samples it with the
/// current policy (the round's "grow" step), scores it with the reward functions (the verifier),
/// and calls `prepare`, which selects the kept completions; every optimizer step on that batch
/// (`num_iterations` passes over its micro-batches, buffered across `steps_per_generation` steps) is
/// the round's SFT ("improve") step. The next rollout batch starts the next round from the
/// policy trained so far (ReST-EM restarts from the base model each iteration; that is a fresh
/// run per round, not this objective). Dropped rows get an empty completion mask, so they weigh
/// nothing in the host's token weighting either.
public final class RFT: RationalizingObjective {
    /// Registered name.
    public static let name = "rft"
    /// One-line summary for `temper plugins`.
    public static let summary = "rejection-sampling fine-tuning (RFT / STaR / ReST-EM): NLL on the sampled completions whose reward reaches a threshold"
    /// The settings.
    public static let parameters: [ParameterSpec] = [
        .float("threshold", default: 1, aliases: ["reward_threshold"], doc: "a completion is kept when its total reward is at least this"),
        .int("max_per_prompt", default: 0, range: .atLeast(0), aliases: ["k"], doc: "keep at most this many completions per prompt, highest reward first; 0 keeps all"),
        .bool("deduplicate", default: true, doc: "keep identical completions of one prompt once"),
        .bool("rationalization", default: false,
              doc: "STaR: re-ask problems with no kept completion with the answer as a hint; train on the correct ones without the hint"),
        .string("hint_template", default: Rationalization.defaultTemplate,
                doc: "the hinted prompt; {prompt} is the question (a conversation's last user message), {answer} the hint"),
        .string("hint_column", default: "answer", doc: "column holding the hint's answer (for a GSM8K solution, the text after its last ####)"),
    ]

    /// RFT trains on rollouts.
    public var inputKind: ObjectiveInputKind { .rollouts }

    let threshold: Float
    let maxPerPrompt: Int
    let deduplicate: Bool
    /// STaR's rationalization, nil when off; the loop reads it.
    public let rationalization: Rationalization?

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        threshold = try config.float("threshold")
        maxPerPrompt = try config.int("max_per_prompt")
        deduplicate = try config.bool("deduplicate")
        rationalization = try config.bool("rationalization")
            ? try Rationalization(template: try config.string("hint_template"), answerColumn: try config.string("hint_column"), threshold: threshold)
            : nil
    }

    /// Selects the kept completions of the whole rollout batch: `extra["kept"]` (`[batch]`, 0/1),
    /// and the completion mask of every dropped row cleared.
    public func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws {
        try RolloutTensors.validate(rollouts, objective: Self.name)
        let kept = keptRows(rollouts)
        let mask = RolloutTensors.rows(rollouts.completionMask).enumerated().map { row, m in kept[row] ? m : [Float](repeating: 0, count: m.count) }
        rollouts.completionMask = RolloutTensors.tensor(mask)
        rollouts.extra["kept"] = Tensor(kept.map { $0 ? Float(1) : 0 })
    }

    /// Which rows pass: reward ≥ threshold, distinct within the prompt, the best `max_per_prompt`.
    func keptRows(_ r: RolloutBatch) -> [Bool] {
        let t = r.inputIDs.shape[1], ids = r.inputIDs.int32Values, mask = r.completionMask.scalars
        func completion(_ row: Int) -> [Int32] { (row * t..<(row + 1) * t).compactMap { mask[$0] != 0 ? ids[$0] : nil } }
        var kept = [Bool](repeating: false, count: r.rewards.count)
        for rows in Self.groups(r.groupIndex) {
            // Highest reward first; equal rewards in sampling order.
            let candidates = rows.filter { r.rewards[$0] >= threshold && !completion($0).isEmpty }
                .sorted { r.rewards[$0] != r.rewards[$1] ? r.rewards[$0] > r.rewards[$1] : $0 < $1 }
            var seen = Set<[Int32]>(), count = 0
            for row in candidates where maxPerPrompt == 0 || count < maxPerPrompt {
                if deduplicate && !seen.insert(completion(row)).inserted { continue }
                kept[row] = true
                count += 1
            }
        }
        return kept
    }

    /// The rows of each prompt, in order of first appearance.
    static func groups(_ groupIndex: [Int]) -> [[Int]] {
        var order: [Int: Int] = [:], members: [[Int]] = []
        for (row, g) in groupIndex.enumerated() {
            if let k = order[g] { members[k].append(row) } else { order[g] = members.count; members.append([row]) }
        }
        return members
    }

    /// The NLL over the kept completion tokens, logging `kept_share` (kept rows / rows) and `nll`.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        let r = try RolloutTensors.rollouts(input, objective: Self.name)
        guard let kept = r.extra["kept"] else {
            throw SpecError("rft: the rollouts were not prepared (extra holds no kept rows); the host must call prepare once per rollout batch")
        }
        // The model's own distribution (temperature 1), whatever temperature sampled the round.
        var plain = r
        plain.temperature = 1
        let nll = -RolloutTensors.maskedMean(try RolloutTensors.logprobs(of: context.policy, plain).logprobs, r.completionMask)
        let share = Double(kept.scalars.reduce(0, +)) / Double(kept.count)
        return ObjectiveOutput(loss: nll, metrics: ["kept_share": share, "nll": Double(nll.item)])
    }
}
