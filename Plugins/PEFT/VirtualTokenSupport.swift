import Foundation
import TemperCore

/// Prompt and prefix tuning change the model's input, not its layers, so they need the concrete
/// Llama model rather than any `AdaptableModel`. `virtualTokens` is checked against the positions
/// the model has before anything is allocated: the virtual tokens take positions of every input,
/// and a count from a spec or an adapter_config.json could otherwise ask for gigabytes.
func llamaModel(_ model: any AdaptableModel, owner: String, virtualTokens: Int) throws -> LlamaModel {
    guard let llama = model as? LlamaModel else {
        throw SpecError("\(owner): needs a Llama-family model (LlamaModel); got \(type(of: model))")
    }
    guard llama.virtualTokens == nil, llama.prefixKeyValues == nil else {
        throw SpecError("\(owner): the model already has prompt- or prefix-tuning tokens installed")
    }
    let positions = llama.config.maxPositionEmbeddings
    guard virtualTokens < positions else {
        throw SpecError("\(owner): num_virtual_tokens = \(virtualTokens) leaves no position for the input: "
                        + "the model has max_position_embeddings = \(positions)")
    }
    return llama
}

/// Loads the tokenizer of a Hugging Face model folder or a GGUF file, for text initialisation.
func loadTokenizer(_ path: String, owner: String) throws -> Tokenizer {
    let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
        throw SpecError("\(owner): tokenizer_name_or_path '\(path)' does not exist (give the model's folder or GGUF file)")
    }
    if isDir.boolValue { return try Tokenizer(directory: url) }
    return try Tokenizer(TokenizerDefinition(gguf: GGUFTokenizerMetadata(try GGUFFile(contentsOf: url).metadata)))
}
