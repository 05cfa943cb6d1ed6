/// An objective that trains a classifier head on the model — a reward model's or a process reward
/// model's `score.weight` — so the run's final model is a Hugging Face classifier
/// (`LlamaForSequenceClassification` / `LlamaForTokenClassification`: decoder weights with any
/// adapter merged, plus the head) rather than an adapter or a causal LM.
public protocol ClassifierObjective: Objective {
    /// The Hugging Face architecture the final model is saved as.
    var classifierArchitecture: String { get }
    /// The trained head `[num_labels, hidden]`, once `makeParameters(for:)` has made it.
    var classifierHead: Tensor? { get }
}
