import Foundation

/// A trained process reward model as a step scorer for step-level search (beam, DVTS, lookahead,
/// MCTS, tree of thoughts): the `LlamaForTokenClassification` folder a `prm` run writes. Each partial
/// solution is tokenized as the PRM's training rows were (`ExampleEncoder.encodeSteps`: prompt, then
/// every step followed by the step separator), and a step's score is P(correct) =
/// softmax(score · h)[1] at its separator's last token — one forward pass per solution scores all its
/// steps, since the model is causal.
public final class ProcessRewardStepScorer: StepScoring {
    /// The classifier.
    public let classifier: SequenceClassifier
    /// Steps end at the PRM's separator.
    public let segmentation: StepSegmentation
    let encoder: ExampleEncoder

    /// Loads the PRM in `directory`; `separator` must be the one its training data used (`step_separator`).
    public init(directory: URL, separator: String = "\n") throws {
        classifier = try SequenceClassifier.load(from: directory)
        guard classifier.architecture == SequenceClassifier.tokenArchitecture, classifier.score.shape[0] == 2 else {
            throw SpecError("\(directory.path) is a \(classifier.architecture) with \(classifier.score.shape[0]) labels; " +
                            "a process reward model is a \(SequenceClassifier.tokenArchitecture) with 2")
        }
        guard !separator.isEmpty else { throw SpecError("process reward model: the step separator must not be empty") }
        segmentation = .separator(separator)
        encoder = ExampleEncoder(tokenizer: classifier.tokenizer, options: EncodingOptions(maxLength: Int.max, stepSeparator: separator))
    }

    /// P(correct) of every step of every solution.
    public func scoreSteps(_ solutions: [PartialSolution]) throws -> [[Float]] {
        try solutions.map { s in
            guard !s.steps.isEmpty else { return [] }
            let example = encoder.encodeSteps(prompt: s.prompt, steps: s.steps, labels: s.steps.map { _ in true })
            let logits = try classifier.tokenScores(example.ids)
            let ends = example.stepLabels!.indices.filter { example.stepLabels![$0] != -100 }
            guard ends.count == s.steps.count else {
                throw SpecError("process reward model: a step of this solution has no tokens, so it cannot be scored")
            }
            return ends.map { t in 1 / (1 + Foundation.exp(logits[t][0] - logits[t][1])) }
        }
    }
}
