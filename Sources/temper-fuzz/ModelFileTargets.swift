import Foundation
import TemperCore

/// Writes `bytes` to `url` for a target that reads files (the parsers map or open paths, as
/// `temper` does, so the fuzzer goes through the same entry point).
func writeInput(_ bytes: [UInt8], to url: URL) throws {
    try Data(bytes).write(to: url)
}

/// GGUF: `PretrainedModel.load`, which parses the header, metadata and tensor infos, reads the
/// configuration and the `tokenizer.ggml.*` keys, dequantizes every tensor (F32, F16, Q8_0 in the
/// seed) and builds the tokenizer; then one encode and decode round.
final class GGUFTarget: FuzzTarget {
    let name = "gguf"
    let summary = "GGUF model files: header, metadata, tensor infos, dequantization, tokenizer (PretrainedModel.load)"
    let shape = InputShape.binary
    let dictionary: [String] = []
    private var path = URL(fileURLWithPath: "/")

    func seeds(_ material: SeedMaterial) throws -> [(bytes: [UInt8], headerEnd: Int)] { [try material.gguf()] }

    func setUp(_ material: SeedMaterial, scratch: URL) throws { path = scratch.appendingPathComponent("model.gguf") }

    func execute(_ input: [UInt8]) throws {
        try writeInput(input, to: path)
        let loaded = try PretrainedModel.load(from: path)
        _ = loaded.tokenizer.decode(loaded.tokenizer.encode("<|im_start|>user\nHello 12 + 30?<|im_end|>"))
    }
}

/// safetensors: `SafetensorsFile` (header JSON, dtypes, shapes, offsets tiling the data region),
/// then every tensor read as float32.
final class SafetensorsTarget: FuzzTarget {
    let name = "safetensors"
    let summary = "safetensors files: 8-byte length, JSON header, dtypes, shapes, data offsets (SafetensorsFile)"
    let shape = InputShape.binary
    let dictionary = ["dtype", "shape", "data_offsets", "__metadata__", "F32", "F16", "BF16", "I32", "I64", "U8", "BOOL", "F64"]
    private var path = URL(fileURLWithPath: "/")

    func seeds(_ material: SeedMaterial) throws -> [(bytes: [UInt8], headerEnd: Int)] {
        let dir = scratchRoot().appendingPathComponent("temper-fuzz-seeds-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let weights = Dictionary(uniqueKeysWithValues: try material.model().namedParameters.prefix(4).map { ($0.name, $0.tensor) })
        var out: [(bytes: [UInt8], headerEnd: Int)] = []
        for dtype in [SafetensorsDType.F32, .F16, .BF16] {
            let url = dir.appendingPathComponent("\(dtype).safetensors")
            try SafetensorsWriter.write(weights, to: url, dtype: dtype)
            let bytes = [UInt8](try Data(contentsOf: url))
            let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            out.append((bytes, 8 + headerLength))
        }
        return out
    }

    func setUp(_ material: SeedMaterial, scratch: URL) throws { path = scratch.appendingPathComponent("model.safetensors") }

    func execute(_ input: [UInt8]) throws {
        try writeInput(input, to: path)
        let file = try SafetensorsFile(contentsOf: path)
        for info in file.tensorInfos { _ = try file.tensor(named: info.name) }
    }
}

/// tokenizer.json: `Tokenizer(directory:)` (vocabulary, merges, added tokens, pre-tokenizer,
/// normalizer, with the fixture's tokenizer_config.json beside it), then encode, decode and a chat.
final class TokenizerJSONTarget: FuzzTarget {
    let name = "tokenizer-json"
    let summary = "tokenizer.json: BPE vocabulary, merges, added tokens, pre-tokenizer (Tokenizer(directory:)) + encode/decode"
    let shape = InputShape.json
    let dictionary = ["model", "vocab", "merges", "added_tokens", "id", "content", "special", "pre_tokenizer", "normalizer",
                      "type", "ByteLevel", "BPE", "Sequence", "Split", "pretokenizers", "pattern", "Regex", "String",
                      "ignore_merges", "unk_token", "byte_fallback", "add_prefix_space", "use_regex", "post_processor",
                      "decoder", "NFC", "NFKC", "single", "special_tokens", "lstrip", "rstrip", "normalized"]
    private var dir = URL(fileURLWithPath: "/")

    func seeds(_ material: SeedMaterial) throws -> [(bytes: [UInt8], headerEnd: Int)] {
        [(try material.tokenizerJSON.get(), 0)]
    }

    func setUp(_ material: SeedMaterial, scratch: URL) throws {
        dir = scratch.appendingPathComponent("tokenizer")
        try material.writeFolder(dir)
    }

    func execute(_ input: [UInt8]) throws {
        try writeInput(input, to: dir.appendingPathComponent("tokenizer.json"))
        let tokenizer = try Tokenizer(directory: dir)
        let ids = tokenizer.encode("Héllo, 12 + 30 = 42!\n<|im_start|>user ünïcödé 🤖<|im_end|>  \t x", addSpecialTokens: true)
        _ = tokenizer.decode(ids)
        _ = tokenizer.decode([0, 1, 2, 399, 400, -1, Int32.max], skipSpecialTokens: true)
        _ = try tokenizer.encodeChat([ChatMessage(role: "user", content: "Hi"), ChatMessage(role: "assistant", content: "Hello")])
    }
}

/// config.json: `PretrainedModel.load` of a folder holding the tiny model's weights and tokenizer
/// and the mutated config, so a size in the config meets real weights (and must be checked before
/// anything is allocated from it).
final class ConfigJSONTarget: FuzzTarget {
    let name = "config-json"
    let summary = "config.json of a Hugging Face folder (ModelConfig, then PretrainedModel.load with the tiny weights)"
    let shape = InputShape.json
    let dictionary = ["vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                      "num_key_value_heads", "head_dim", "rms_norm_eps", "rope_theta", "rope_parameters", "rope_scaling",
                      "rope_type", "max_position_embeddings", "tie_word_embeddings", "attention_bias", "mlp_bias",
                      "bos_token_id", "eos_token_id", "pad_token_id", "model_type", "llama", "qwen2", "mistral",
                      "architectures", "torch_dtype", "dtype", "hidden_act", "silu", "sliding_window"]
    private var dir = URL(fileURLWithPath: "/")

    func seeds(_ material: SeedMaterial) throws -> [(bytes: [UInt8], headerEnd: Int)] {
        [([UInt8](try material.config.huggingFaceJSON()), 0), (try material.file("fixtures/tiny-llama-hf/config.json"), 0)]
    }

    func setUp(_ material: SeedMaterial, scratch: URL) throws {
        dir = scratch.appendingPathComponent("model")
        try material.writeFolder(dir)
    }

    func execute(_ input: [UInt8]) throws {
        try writeInput(input, to: dir.appendingPathComponent("config.json"))
        let loaded = try PretrainedModel.load(from: dir)
        _ = loaded.model.config.vocabSize
    }
}
