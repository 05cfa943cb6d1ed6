import Foundation
import TemperCore

/// A trained process reward model as a reward function: the `LlamaForTokenClassification` folder a
/// `prm` run writes scores each step of a completion — the completion split at `step_separator`,
/// tokenized as the PRM's training rows were (`ExampleEncoder.encodeSteps`) — with P(correct) read
/// at each step's end, and the steps' scores combined into one (Lightman et al.: `prod`; `min`,
/// the weakest step, is the usual verifier score; `last`, the final step's).
public final class ProcessReward: RewardFunction {
    /// Registered name.
    public static let name = "process-reward"
    /// One-line summary for `temper plugins`.
    public static let summary = "scores a completion's steps with a trained process reward model (what --objective prm writes) and combines them: min, prod or last"
    /// The folder, the separator and how step scores combine.
    public static let parameters: [ParameterSpec] = [
        .string("path", default: nil, doc: "folder of the process reward model (config.json, model.safetensors, tokenizer.json)"),
        .string("step_separator", default: "\n", doc: "what ends each step, as in the PRM's training data"),
        .choice("aggregation", ["min", "prod", "last"], default: "min", doc: "how the steps' P(correct) become one score"),
    ]

    let classifier: SequenceClassifier
    let encoder: ExampleEncoder
    let separator: String
    let aggregation: String

    /// Loads the model the `path` names.
    public init(config: ComponentConfig) throws {
        let path = try config.string("path")
        classifier = try SequenceClassifier.load(from: URL(fileURLWithPath: path))
        guard classifier.architecture == SequenceClassifier.tokenArchitecture, classifier.score.shape[0] == 2 else {
            throw SpecError("process-reward: \(path) is a \(classifier.architecture) with \(classifier.score.shape[0]) labels; a process reward model is a LlamaForTokenClassification with 2")
        }
        separator = try config.string("step_separator")
        guard !separator.isEmpty else { throw SpecError("process-reward: step_separator must not be empty") }
        encoder = ExampleEncoder(tokenizer: classifier.tokenizer, options: EncodingOptions(stepSeparator: separator))
        aggregation = try config.string("aggregation")
    }

    /// P(correct) of each step of `completion` after `prompt`, in order.
    public func stepScores(prompt: String, completion: String) throws -> [Float] {
        let steps = completion.components(separatedBy: separator).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        guard !steps.isEmpty else { return [] }
        let example = encoder.encodeSteps(prompt: prompt, steps: steps, labels: steps.map { _ in true })
        let logits = try classifier.tokenScores(example.ids)
        return example.stepLabels!.indices.filter { example.stepLabels![$0] != -100 }.map { t in
            1 / (1 + Foundation.exp(logits[t][0] - logits[t][1]))                   // softmax(·)[1] of two logits
        }
    }

    /// One combined score per completion; nil for a completion with no step.
    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        return try zip(batch.prompts, batch.completions).map { prompt, completion in
            let s = try stepScores(prompt: prompt, completion: completion)
            guard let last = s.last else { return nil }
            switch aggregation {
            case "prod": return s.reduce(1, *)
            case "last": return last
            default: return s.min()
            }
        }
    }
}
