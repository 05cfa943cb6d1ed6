import TemperCore

/// A Bradley–Terry reward model (InstructGPT, arXiv 2203.02155; TRL's RewardTrainer): a scalar head
/// `score.weight` `[1, hidden]` on the final hidden state at each sequence's last non-padding token
/// (where transformers' `LlamaForSequenceClassification` reads it), trained on preference pairs with
/// L = −log σ(r(x, y_w) − r(x, y_l) − m) + c · (r(x, y_w) + r(x, y_l))²,
/// m the row's optional `margin` (Llama 2, arXiv 2307.09288) and c `center_rewards_coefficient`
/// (Eisenstein et al., arXiv 2312.09244). The run's final model is saved in Hugging Face's
/// sequence-classification layout, which transformers loads and `--reward reward-model:path=DIR` scores with.
public final class RewardModel: ClassifierObjective {
    /// Registered name.
    public static let name = "reward-modeling"
    /// One-line summary for `temper plugins`.
    public static let summary = "Bradley-Terry reward model: scalar score head on the last token, trained on chosen/rejected pairs (optional margin); saved as LlamaForSequenceClassification"
    /// TRL's RewardConfig name (its None is 0 here).
    public static let parameters: [ParameterSpec] = [
        .float("center_rewards_coefficient", default: 0, range: .atLeast(0),
               doc: "c: weight of the penalty c·(r_w + r_l)² that keeps rewards centred on 0 (0.01 suggested; 0 = off)"),
    ]

    /// Reward modelling trains on dataset batches of pairs.
    public var inputKind: ObjectiveInputKind { .batches }
    /// One loss per pair.
    public var lossWeighting: LossWeighting { .sequences }
    /// Saved as a sequence classifier.
    public var classifierArchitecture: String { SequenceClassifier.sequenceArchitecture }
    /// The head, once made.
    public private(set) var classifierHead: Tensor?

    let centering: Float

    /// Reads c.
    public init(config: ComponentConfig) throws { centering = try config.float("center_rewards_coefficient") }

    /// `score.weight` `[1, hidden]`, N(0, 0.02²) as transformers initialises it, reproducible by the run's seed.
    public func makeParameters(for model: ObjectiveModelInfo) throws -> [NamedParameter] {
        var rng = PhiloxRNG(seed: model.seed &+ 0x5C0E)
        let head = Tensor.randn([1, model.hiddenSize], std: 0.02, rng: &rng, requiresGrad: true)
        classifierHead = head
        return [NamedParameter(name: SequenceClassifier.headName, tensor: head)]
    }

    /// The mean pair loss, with TRL's `accuracy`, `margin`, `min_reward`, `mean_reward`, `max_reward`
    /// and `rewards/chosen`, `rewards/rejected`.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { throw SpecError("reward-modeling: expects dataset batches, got rollouts") }
        let n = try batch.preferencePairCount(objective: Self.name)
        guard let head = classifierHead else { throw TrainingError("reward-modeling: makeParameters(for:) was not called, so there is no score head") }
        guard let positions = batch.extra[BatchKeys.scoreIndex] else { throw TrainingError("reward-modeling: the batch lacks the score positions the collator writes") }
        let hidden = try context.policy.hiddenStates(inputIDs: batch.inputIDs, attentionMask: batch.attentionMask)
        let last = SequenceClassifier.gatherRows(hidden, positions.scalars.map { Int($0) })             // [2n, hidden]
        let rewards = last.matmul(head.transposed()).reshape([2 * n])                                // r(x, y)
        let (chosen, rejected) = rewards.pairHalves(n)
        var difference = chosen - rejected
        if let margin = batch.extra[BatchKeys.margin] { difference = difference - margin }
        var loss = -difference.logSigmoid().mean()
        if centering > 0 { loss = loss + (chosen + rejected).pow(2).mean() * centering }
        let c = chosen.scalars, r = rejected.scalars, all = c + r
        func mean(_ x: [Float]) -> Double { x.reduce(0.0) { $0 + Double($1) } / Double(max(1, x.count)) }
        let metrics: [String: Double] = [
            "accuracy": mean(zip(c, r).map { $0 > $1 ? 1 : 0 }), "margin": mean(zip(c, r).map { $0 - $1 }),
            "rewards/chosen": mean(c), "rewards/rejected": mean(r),
            "min_reward": Double(all.min() ?? 0), "mean_reward": mean(all), "max_reward": Double(all.max() ?? 0),
        ]
        return ObjectiveOutput(loss: loss, metrics: metrics)
    }
}
