import Foundation
import TemperCore

/// A trained reward model as a reward function: the Hugging Face sequence classifier that a
/// `reward-modeling` run writes (or any `LlamaForSequenceClassification` folder with one label)
/// scores prompt + completion, in batches, read at the last non-padding token as transformers does.
///
/// The text is tokenized as the reward model's plain-text training rows were: prompt + completion
/// with the tokenizer's prefix tokens, special tokens in a chat-rendered prompt parsed, EOS after
/// (`append_eos`).
public final class RewardModelReward: RewardFunction {
    /// Registered name.
    public static let name = "reward-model"
    /// One-line summary for `temper plugins`.
    public static let summary = "scores prompt + completion with a trained reward model (a Hugging Face LlamaForSequenceClassification folder, e.g. what --objective reward-modeling writes)"
    /// The folder, the batch size and the EOS convention.
    public static let parameters: [ParameterSpec] = [
        .string("path", default: nil, doc: "folder of the reward model (config.json, model.safetensors, tokenizer.json)"),
        .int("batch_size", default: 8, range: .atLeast(1), doc: "sequences per forward pass"),
        .bool("append_eos", default: true, doc: "end each sequence with EOS, as plain-text training rows do"),
    ]

    let classifier: SequenceClassifier
    let batchSize: Int
    let appendEOS: Bool

    /// Loads the model the `path` names.
    public init(config: ComponentConfig) throws {
        let path = try config.string("path")
        classifier = try SequenceClassifier.load(from: URL(fileURLWithPath: path))
        guard classifier.architecture == SequenceClassifier.sequenceArchitecture, classifier.score.shape[0] == 1 else {
            throw SpecError("reward-model: \(path) is a \(classifier.architecture) with \(classifier.score.shape[0]) labels; a reward model has one label")
        }
        batchSize = try config.int("batch_size")
        appendEOS = try config.bool("append_eos")
    }

    /// One score per completion.
    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        let tokenizer = classifier.tokenizer
        let eos = appendEOS ? (tokenizer.eosTokenID.map { [$0] } ?? []) : []
        let sequences = zip(batch.prompts, batch.completions).map { tokenizer.encode($0 + $1, parseSpecialTokens: true, addSpecialTokens: true) + eos }
        return try classifier.scores(sequences, batchSize: batchSize).map { $0[0] }
    }
}
