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
public struct RolloutBatch {
    /// Prompt + completion ids, int32 `[batch, seq]`, prompts left-aligned.
    public var inputIDs: Tensor
    /// 1 on completion tokens, float `[batch, seq]`.
    public var completionMask: Tensor
    /// Which prompt each row answers (rows of one prompt form a group).
    public var groupIndex: [Int]
    /// Total reward per row.
    public var rewards: [Float]
    /// log π_old per completion token, `[batch, seq]` (zeros outside the mask).
    public var oldLogprobs: Tensor?
    /// log π_ref per completion token, for KL terms.
    public var referenceLogprobs: Tensor?
    /// Rows that hit the length limit (DAPO masks them).
    public var truncated: [Bool]

    /// A rollout batch from parts.
    public init(inputIDs: Tensor, completionMask: Tensor, groupIndex: [Int], rewards: [Float],
                oldLogprobs: Tensor? = nil, referenceLogprobs: Tensor? = nil, truncated: [Bool] = []) {
        self.inputIDs = inputIDs
        self.completionMask = completionMask
        self.groupIndex = groupIndex
        self.rewards = rewards
        self.oldLogprobs = oldLogprobs
        self.referenceLogprobs = referenceLogprobs
        self.truncated = truncated
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
    /// The loss and metrics for one micro-batch.
    func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput
}

/// The two ways an objective is fed.
public enum ObjectiveInputKind: String, Sendable {
    case batches, rollouts
}

extension Objective {
    public static var kind: ComponentKind { .objective }
}
