import TemperCore

/// A process reward model (Lightman et al. 2023, arXiv 2305.20050; TRL's PRMTrainer conventions):
/// per-step binary classification. Each step of a stepwise row is followed by the step separator,
/// and the separator's last token carries the step's label (1 correct, 0 wrong); a two-way head
/// `score.weight` `[2, hidden]` on the final hidden states is trained with cross-entropy on those
/// positions only, L = −mean over labelled positions of log softmax(score · h_t)[label_t].
/// A step's score is then P(correct) = softmax(score · h_t)[1]. The final model is saved as
/// Hugging Face's `LlamaForTokenClassification` (2 labels, no bias), which transformers loads.
public final class PRM: ClassifierObjective {
    /// Registered name.
    public static let name = "prm"
    /// One-line summary for `temper plugins`.
    public static let summary = "process reward model: per-step correct/wrong classification at step separators (prompt/completions/labels rows); saved as LlamaForTokenClassification"
    /// No settings: the separator is the recipe's `step_separator`, applied when the data is tokenized.
    public static let parameters: [ParameterSpec] = []

    /// PRMs train on dataset batches of stepwise rows.
    public var inputKind: ObjectiveInputKind { .batches }
    /// Batches combine by rows, so evaluation reports the classifier's metrics, not perplexity.
    public var lossWeighting: LossWeighting { .sequences }
    /// Saved as a token classifier.
    public var classifierArchitecture: String { SequenceClassifier.tokenArchitecture }
    /// The head, once made.
    public private(set) var classifierHead: Tensor?

    /// Nothing to read.
    public init(config: ComponentConfig) throws {}

    /// `score.weight` `[2, hidden]`, N(0, 0.02²), reproducible by the run's seed.
    public func makeParameters(for model: ObjectiveModelInfo) throws -> [NamedParameter] {
        var rng = PhiloxRNG(seed: model.seed &+ 0x9E3)
        let head = Tensor.randn([2, model.hiddenSize], std: 0.02, rng: &rng, requiresGrad: true)
        classifierHead = head
        return [NamedParameter(name: SequenceClassifier.headName, tensor: head)]
    }

    /// The cross-entropy over labelled step ends, with `PRMStepMetrics`: step `accuracy` (argmax
    /// equals the label), `steps` (labelled positions in the batch), and how often the first flagged
    /// step is the chain's first wrong step.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { throw SpecError("prm: expects dataset batches, got rollouts") }
        let labels = try batch.stepLabels(objective: Self.name)
        guard let head = classifierHead else { throw TrainingError("prm: makeParameters(for:) was not called, so there is no score head") }
        let hidden = try context.policy.hiddenStates(inputIDs: batch.inputIDs, attentionMask: batch.attentionMask)
        let logits = hidden.matmul(head.transposed())                                       // [batch, seq, 2]
        let loss = Tensor.crossEntropy(logits: logits, targets: labels, ignoreIndex: -100)
        let metrics = PRMStepMetrics(logits: logits.scalars, targets: labels.int32Values, sequenceLength: labels.shape[1])
        return ObjectiveOutput(loss: loss, metrics: metrics.values)
    }
}
