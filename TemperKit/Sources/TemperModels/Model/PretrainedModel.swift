import Foundation
import TemperTensor

/// A model with its tokenizer, loaded from one place: a GGUF file (weights and `tokenizer.ggml.*`
/// metadata) or a Hugging Face directory (`config.json`, safetensors, `tokenizer.json`).
public struct PretrainedModel {
    /// The decoder.
    public let model: LlamaModel
    /// Its tokenizer (with the chat template the checkpoint ships).
    public let tokenizer: Tokenizer
    /// Where it was loaded from.
    public let source: URL

    /// Bundles a model with its tokenizer.
    public init(model: LlamaModel, tokenizer: Tokenizer, source: URL) {
        self.model = model
        self.tokenizer = tokenizer
        self.source = source
    }

    /// Loads a GGUF file or a Hugging Face model directory; `quantization` says how the
    /// projections' frozen weights are held (float32 by default).
    public static func load(from url: URL, quantization: WeightQuantization = .none) throws -> PretrainedModel {
        let model = try LlamaModel.load(from: url, quantization: quantization)
        var isDir: ObjCBool = false
        let definition: TokenizerDefinition
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir), isDir.boolValue {
            definition = try TokenizerDefinition(directory: url)
        } else {
            definition = try TokenizerDefinition(gguf: GGUFTokenizerMetadata(try GGUFFile(contentsOf: url).metadata))
        }
        return PretrainedModel(model: model, tokenizer: try Tokenizer(definition), source: url)
    }

    /// A generator over this model and tokenizer.
    public var generator: Generator { Generator(model: model, tokenizer: tokenizer) }

    /// The model's end-of-turn / end-of-text tokens: the config's EOS ids.
    public var stopTokenIds: Set<Int32> { Set(model.config.eosTokenIds.map { Int32($0) }) }
}

extension GGUFTokenizerMetadata {
    /// Reads the `tokenizer.*` keys of a GGUF file's metadata.
    public init(_ m: GGUFMetadata) throws {
        self.init(model: try m.string("tokenizer.ggml.model"),
                  pre: try m.stringIfPresent("tokenizer.ggml.pre"),
                  tokens: try m.stringArray("tokenizer.ggml.tokens"),
                  tokenTypes: try m.intArrayIfPresent("tokenizer.ggml.token_type"),
                  merges: try m.stringArrayIfPresent("tokenizer.ggml.merges") ?? [],
                  bosTokenID: try m.intIfPresent("tokenizer.ggml.bos_token_id"),
                  eosTokenID: try m.intIfPresent("tokenizer.ggml.eos_token_id"),
                  paddingTokenID: try m.intIfPresent("tokenizer.ggml.padding_token_id"),
                  addBOSToken: try m.boolIfPresent("tokenizer.ggml.add_bos_token"),
                  addEOSToken: try m.boolIfPresent("tokenizer.ggml.add_eos_token"),
                  chatTemplate: try m.stringIfPresent("tokenizer.chat_template"))
    }
}
