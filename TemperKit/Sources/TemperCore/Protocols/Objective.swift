/// A tokenized training batch (`[batch, seq]` tensors), the input of supervised and preference objectives.
public struct TrainingBatch {
    /// Token ids, int32 `[batch, seq]`.
    public var inputIDs: Tensor
    /// 1 for real tokens, 0 for padding, float `[batch, seq]`.
    public var attentionMask: Tensor
    /// 1 where the loss counts (completion / assistant tokens), float `[batch, seq]`.
    public var lossMask: Tensor
    /// Further per-example tensors by name (`chosen_input_ids`, `label`, teacher logits, ...).
    public var extra: [String: Tensor]

    /// A batch from parts.
    public init(inputIDs: Tensor, attentionMask: Tensor, lossMask: Tensor, extra: [String: Tensor] = [:]) {
        self.inputIDs = inputIDs
        self.attentionMask = attentionMask
        self.lossMask = lossMask
        self.extra = extra
    }
}

/// Sampled completions with their rewards, the input of online RL objectives (GRPO, RLOO, PPO).
///
/// Row `i` is prompt + completion; the rows of one prompt form a group (`groupIndex`). The host
/// fills the token tensors, rewards and log-probabilities; `prepare(_:context:)` of the objective
/// may add what it needs once per batch (PPO's old values) to `extra`.
public struct RolloutBatch {
    /// Prompt + completion ids, int32 `[batch, seq]` (padding where `attentionMask` is 0).
    public var inputIDs: Tensor
    /// 1 for real tokens (prompt and completion), 0 for padding, float `[batch, seq]`.
    public var attentionMask: Tensor
    /// 1 on completion tokens, float `[batch, seq]`.
    public var completionMask: Tensor
    /// Which prompt each row answers (rows of one prompt form a group).
    public var groupIndex: [Int]
    /// Total reward per row (the weighted sum of the reward functions).
    public var rewards: [Float]
    /// Each reward function's score per row by its spec name (nil where it did not apply), for logging.
    public var rewardsPerFunction: [String: [Float?]]
    /// Reward of the greedy completion of each row's prompt, when the objective asks for it
    /// (`needsGreedyBaseline`, ReMax).
    public var baselineRewards: [Float]?
    /// log π_old per completion token, `[batch, seq]` (zeros outside the mask): the policy that sampled.
    public var oldLogprobs: Tensor?
    /// log π_ref per completion token, for KL terms.
    public var referenceLogprobs: Tensor?
    /// Rows that hit the length limit (DAPO masks them).
    public var truncated: [Bool]
    /// What the objective computed for this batch in `prepare` (e.g. `old_values`).
    public var extra: [String: Tensor]
    /// The temperature the completions were sampled at: `oldLogprobs` and `referenceLogprobs` are
    /// of softmax(logits / temperature), and the policy's must be read the same way
    /// (`CompletionLogProbs`), as TRL does.
    public var temperature: Float
    /// The run's `max_completion_length` (Dr. GRPO's constant normaliser); 0 when not known.
    public var maxCompletionLength: Int

    /// A rollout batch from parts; without `attentionMask` every position is real.
    public init(inputIDs: Tensor, attentionMask: Tensor? = nil, completionMask: Tensor, groupIndex: [Int], rewards: [Float],
                rewardsPerFunction: [String: [Float?]] = [:], baselineRewards: [Float]? = nil,
                oldLogprobs: Tensor? = nil, referenceLogprobs: Tensor? = nil, truncated: [Bool] = [], extra: [String: Tensor] = [:],
                temperature: Float = 1, maxCompletionLength: Int = 0) {
        self.inputIDs = inputIDs
        self.attentionMask = attentionMask ?? Tensor(shape: inputIDs.shape, scalars: [Float](repeating: 1, count: inputIDs.count))
        self.completionMask = completionMask
        self.groupIndex = groupIndex
        self.rewards = rewards
        self.rewardsPerFunction = rewardsPerFunction
        self.baselineRewards = baselineRewards
        self.oldLogprobs = oldLogprobs
        self.referenceLogprobs = referenceLogprobs
        self.truncated = truncated
        self.extra = extra
        self.temperature = temperature
        self.maxCompletionLength = maxCompletionLength
    }
}

/// What an objective trains on.
public enum ObjectiveInput {
    /// A batch from a dataset (SFT, DPO, KTO, reward modelling, distillation).
    case batch(TrainingBatch)
    /// Freshly sampled completions with rewards (GRPO, RLOO, PPO, online DPO).
    case rollouts(RolloutBatch)
}

/// A differentiable language model as objectives call it.
public protocol TrainableLanguageModel: AnyObject {
    /// Logits `[batch, seq, vocab]` for `inputIDs` (int32 `[batch, seq]`); recorded by autograd.
    func logits(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor
    /// The final hidden states `[batch, seq, hidden]` the LM head reads (what a value head or a
    /// reward model's score head reads); recorded by autograd.
    func hiddenStates(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor
    /// Logits `[..., vocab]` from `hiddenStates`' output: one trunk pass can feed both the LM head
    /// and an objective's own head.
    func logits(hiddenStates: Tensor) -> Tensor
}

/// The models an objective may use in a step.
public struct ObjectiveContext {
    /// The model being trained.
    public var policy: any TrainableLanguageModel
    /// A frozen reference (DPO, KL-regularised RL), if the objective needs one.
    public var reference: (any TrainableLanguageModel)?
    /// Optimizer step number, from 0.
    public var step: Int

    /// A context from parts.
    public init(policy: any TrainableLanguageModel, reference: (any TrainableLanguageModel)? = nil, step: Int = 0) {
        self.policy = policy
        self.reference = reference
        self.step = step
    }
}

/// What a step computed: the scalar loss to back-propagate and metrics to log (`rewards/chosen`, `kl`, ...).
public struct ObjectiveOutput {
    /// Scalar loss tensor (0-D or one element), part of the autograd graph.
    public var loss: Tensor
    /// Named values for metrics.jsonl.
    public var metrics: [String: Double]

    /// An output from parts.
    public init(loss: Tensor, metrics: [String: Double] = [:]) {
        self.loss = loss
        self.metrics = metrics
    }
}

/// The training algorithm: what one step computes from a batch or rollouts (SFT, DPO, GRPO, ...).
public protocol Objective: Component, AnyObject {
    /// Whether the objective trains on dataset batches or on rollouts (decides how the trainer feeds it).
    var inputKind: ObjectiveInputKind { get }
    /// How the trainer weights micro-batch losses in gradient accumulation and evaluation.
    var lossWeighting: LossWeighting { get }
    /// Whether `ObjectiveContext.reference` must be set (DPO; KL-regularised RL with `beta > 0`).
    /// The host then gives the base model with adapters disabled under PEFT, or a frozen copy
    /// under full fine-tuning.
    var needsReference: Bool { get }
    /// Parameters the objective itself owns (PPO's value head, a reward model's score head),
    /// created for `model`; the trainer optimizes and checkpoints them with the policy's under their
    /// names (which must not clash with the model's, e.g. `v_head.weight`, `score.weight`).
    /// Called once, before training or resuming.
    func makeParameters(for model: ObjectiveModelInfo) throws -> [NamedParameter]
    /// Whether rollouts must also carry the reward of each prompt's greedy completion
    /// (`RolloutBatch.baselineRewards`, ReMax's baseline).
    var needsGreedyBaseline: Bool { get }
    /// Called once per rollout batch, without gradients, before the first `loss` on it (which may be
    /// followed by more with `num_iterations` > 1): computes what must stay fixed across those
    /// iterations, such as PPO's old values, into `rollouts.extra`.
    func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws
    /// The loss and metrics for one micro-batch.
    func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput
    /// Numbers the objective carries from step to step that are not parameters (PPO's adaptive
    /// KL coefficient): the trainer writes them into every checkpoint (`trainer_state.json`,
    /// `objective_state`) so that a resumed run goes on with the values the interrupted one had.
    func checkpointState() -> [String: Double]
    /// Takes back what `checkpointState()` returned when the checkpoint was written; throws,
    /// naming the key, when a value it needs is missing.
    func restoreState(_ state: [String: Double]) throws
}

/// The two ways an objective is fed.
public enum ObjectiveInputKind: String, Sendable {
    case batches, rollouts
}

/// What a micro-batch's loss counts for when several are combined.
public enum LossWeighting: String, Sendable {
    /// By its loss-mask tokens (SFT: the step's loss is the mean over all its target tokens).
    case tokens
    /// By its rows (DPO, KTO, reward models: a per-sequence loss is a mean over sequences, however
    /// long each is).
    case sequences
}

/// The model facts an objective needs to build its own parameters.
public struct ObjectiveModelInfo: Sendable {
    /// Width of the hidden states a head reads.
    public var hiddenSize: Int
    /// Vocabulary size.
    public var vocabSize: Int
    /// The run's seed (for a reproducible head initialisation).
    public var seed: UInt64

    /// Facts from parts.
    public init(hiddenSize: Int, vocabSize: Int, seed: UInt64) {
        self.hiddenSize = hiddenSize
        self.vocabSize = vocabSize
        self.seed = seed
    }
}

extension Objective {
    public static var kind: ComponentKind { .objective }
    /// Token weighting, as SFT.
    public var lossWeighting: LossWeighting { .tokens }
    /// No reference model.
    public var needsReference: Bool { false }
    /// No parameters of its own.
    public func makeParameters(for model: ObjectiveModelInfo) throws -> [NamedParameter] { [] }
    /// No greedy baseline.
    public var needsGreedyBaseline: Bool { false }
    /// Nothing to prepare.
    public func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws {}
    /// No state besides the parameters.
    public func checkpointState() -> [String: Double] { [:] }
    /// Nothing to restore.
    public func restoreState(_ state: [String: Double]) throws {}
}
