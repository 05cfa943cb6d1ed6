import Foundation
import TemperModels

/// A Llama decoder with a linear score head — Hugging Face's `LlamaForSequenceClassification`
/// (a reward model, `num_labels` 1) or `LlamaForTokenClassification` (a process reward model, 2
/// labels, score read at step ends) — loaded from or written to a Hugging Face folder that
/// transformers loads as it is: `config.json` with the architecture, `num_labels` and
/// `pad_token_id`, the decoder's weights under their usual names plus `score.weight`, and the
/// tokenizer files.
public final class SequenceClassifier {
    /// The decoder.
    public let model: LlamaModel
    /// The head, `[numLabels, hidden]`.
    public let score: Tensor
    /// The tokenizer saved with it.
    public let tokenizer: Tokenizer
    /// transformers' padding id, which also decides where a sequence classifier reads its score.
    public let padTokenID: Int32?
    /// `LlamaForSequenceClassification` or `LlamaForTokenClassification`.
    public let architecture: String

    /// The head's name in Hugging Face's layout.
    public static let headName = "score.weight"
    /// The reward-model architecture.
    public static let sequenceArchitecture = "LlamaForSequenceClassification"
    /// The per-token (process reward model) architecture.
    public static let tokenArchitecture = "LlamaForTokenClassification"

    /// A classifier from parts.
    public init(model: LlamaModel, score: Tensor, tokenizer: Tokenizer, padTokenID: Int32?, architecture: String) {
        self.model = model
        self.score = score
        self.tokenizer = tokenizer
        self.padTokenID = padTokenID
        self.architecture = architecture
    }

    /// Where transformers' `LlamaForSequenceClassification` reads a row's score: the last token
    /// that is not `padTokenID` (position 0 when every token is padding; the last position when
    /// there is no padding id).
    public static func scoreIndex(_ ids: ArraySlice<Int32>, padTokenID: Int32?) -> Int {
        guard let pad = padTokenID else { return max(0, ids.count - 1) }
        return (ids.indices.last { ids[$0] != pad }).map { $0 - ids.startIndex } ?? 0
    }

    /// Loads a folder written by `write` or by transformers' `save_pretrained`.
    public static func load(from directory: URL) throws -> SequenceClassifier {
        let configURL = directory.appendingPathComponent("config.json")
        guard let data = FileManager.default.contents(atPath: configURL.path) else {
            throw SpecError("\(directory.path): no config.json; expected a Hugging Face sequence-classification folder (what a reward-model run writes)")
        }
        let json = try JSONValue.parse(data, source: configURL.path)
        let architecture = json.objectValue?["architectures"]?.arrayValue?.first?.stringValue ?? ""
        guard [sequenceArchitecture, tokenArchitecture].contains(architecture) else {
            throw SpecError("\(configURL.path): architectures is '\(architecture)', expected \(sequenceArchitecture) or \(tokenArchitecture)")
        }
        let config = try ModelConfig(huggingFaceJSON: data, source: configURL.path)
        let checkpoint = try SafetensorsCheckpoint(contentsOf: directory)
        var weights = [String: Tensor]()
        for name in checkpoint.tensorNames { weights[name] = try checkpoint.tensor(named: name) }
        guard let score = weights.removeValue(forKey: headName), score.rank == 2, score.shape[1] == config.hiddenSize else {
            throw SpecError("\(directory.path): no '\(headName)' of shape [num_labels, \(config.hiddenSize)] among the weights")
        }
        // transformers' classifiers store no LM head; a tied model's head is its embedding anyway.
        let model = try LlamaModel(config: config, weights: weights, source: directory.path)
        let tokenizer = try Tokenizer(try TokenizerDefinition(directory: directory))
        let pad = json.objectValue?["pad_token_id"]?.intValue.map(Int32.init) ?? tokenizer.padTokenID
        return SequenceClassifier(model: model, score: score.contiguous(), tokenizer: tokenizer, padTokenID: pad, architecture: architecture)
    }

    /// Scores of token sequences, `[rows][numLabels]`, in batches of `batchSize`, each right-padded
    /// and read at `scoreIndex` — transformers' numbers for the same ids.
    public func scores(_ sequences: [[Int32]], batchSize: Int = 8) throws -> [[Float]] {
        var out: [[Float]] = []
        let pad = padTokenID ?? 0
        for start in stride(from: 0, to: sequences.count, by: max(1, batchSize)) {
            let rows = Array(sequences[start..<min(start + max(1, batchSize), sequences.count)])
            let batch = BatchCollator.pad(rows.map { TokenizedSequence(ids: $0, lossMask: [Bool](repeating: false, count: $0.count)) }, padID: pad)
            let indices = rows.map { Self.scoreIndex($0[...], padTokenID: padTokenID) }
            let logits = try withNoGrad { try withEvalMode { () -> Tensor in
                let hidden = try model.hiddenStates(inputIDs: batch.inputIDs, attentionMask: batch.attentionMask)
                return Self.gatherRows(hidden, indices).matmul(score.transposed())
            } }
            let labels = score.shape[0], values = logits.scalars
            out += rows.indices.map { Array(values[($0 * labels)..<(($0 + 1) * labels)]) }
        }
        return out
    }

    /// Per-position scores `[seq][numLabels]` of one sequence (a token classifier's output).
    public func tokenScores(_ ids: [Int32]) throws -> [[Float]] {
        let logits = try withNoGrad { try withEvalMode { () -> Tensor in
            let input = Tensor(shape: [1, ids.count], int32: ids)
            let hidden = try model.hiddenStates(inputIDs: input, attentionMask: Tensor.ones([1, ids.count]))
            return hidden.reshape([ids.count, score.shape[1]]).matmul(score.transposed())
        } }
        let labels = score.shape[0], values = logits.scalars
        return ids.indices.map { Array(values[($0 * labels)..<(($0 + 1) * labels)]) }
    }

    /// `hidden[r, indices[r], :]` as `[rows, hidden]`, differentiable (a one-hot mask summed over time).
    public static func gatherRows(_ hidden: Tensor, _ indices: [Int]) -> Tensor {
        let rows = hidden.shape[0], length = hidden.shape[1]
        var pick = [Float](repeating: 0, count: rows * length)
        for (r, t) in indices.enumerated() { pick[r * length + t] = 1 }
        return (hidden * Tensor(shape: [rows, length, 1], scalars: pick)).sum(axis: 1)
    }

    /// Writes `model` with `score` as a Hugging Face classifier folder into `directory` (created if
    /// needed): config.json, model.safetensors and the tokenizer files of `source` (a GGUF file or a
    /// Hugging Face folder). Each file is written under a temporary name and renamed.
    public static func write(model: LlamaModel, score: Tensor, architecture: String, source: URL, padTokenID: Int32?,
                             to directory: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        var isDir: ObjCBool = false
        let fromFolder = fm.fileExists(atPath: source.path, isDirectory: &isDir) && isDir.boolValue
        var files: [String: Data] = [:]
        if fromFolder {
            for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"] {
                if let data = fm.contents(atPath: source.appendingPathComponent(name).path) { files[name] = data }
            }
        } else {
            files = try AdapterMerging.huggingFaceMetadata(gguf: source, config: model.config, dtype: .F32)
        }
        files["config.json"] = try classifierConfig(model.config, labels: score.shape[0], architecture: architecture, padTokenID: padTokenID)
        var tensors: [String: Tensor] = [headName: score]
        for p in model.namedParameters where !(model.config.tieWordEmbeddings && p.name == "lm_head.weight") { tensors[p.name] = p.tensor }
        try SafetensorsWriter.write(tensors, to: directory.appendingPathComponent("model.safetensors"))
        for (name, data) in files { try AtomicFileWriter.write(data, to: directory.appendingPathComponent(name)) }
    }

    /// Writes a trained classifier: under a PEFT method that installed adapters they are merged into
    /// the weights for the write and unmerged after (a method that cannot merge, such as prompt
    /// tuning, is an error naming it); under full fine-tuning the weights are written as they are.
    public static func writeTrained(model: LlamaModel, peft: any PEFTMethod, score: Tensor, architecture: String, source: URL,
                                    padTokenID: Int32?, to directory: URL) throws {
        guard model.hasAdapters else {
            return try write(model: model, score: score, architecture: architecture, source: source, padTokenID: padTokenID, to: directory)
        }
        do { try peft.merge(into: model) } catch {
            throw SpecError("cannot save the trained classifier in Hugging Face's layout: its PEFT method's adapters cannot be merged (\(error))")
        }
        defer { try? peft.unmerge(from: model) }
        try write(model: model, score: score, architecture: architecture, source: source, padTokenID: padTokenID, to: directory)
    }

    /// The causal LM's config.json turned into a classifier's: architecture, label maps, padding id.
    static func classifierConfig(_ config: ModelConfig, labels: Int, architecture: String, padTokenID: Int32?) throws -> Data {
        guard var object = try JSONSerialization.jsonObject(with: try config.huggingFaceJSON()) as? [String: Any] else {
            throw SpecError("cannot build the classifier's config.json")
        }
        object["architectures"] = [architecture]
        object["id2label"] = Dictionary(uniqueKeysWithValues: (0..<labels).map { ("\($0)", "LABEL_\($0)") })
        object["label2id"] = Dictionary(uniqueKeysWithValues: (0..<labels).map { ("LABEL_\($0)", $0) })
        if let padTokenID { object["pad_token_id"] = Int(padTokenID) }
        // Our head has no bias; transformers' token classifier adds one unless told otherwise.
        if architecture == tokenArchitecture { object["token_classification_bias"] = false }
        return try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    }
}
