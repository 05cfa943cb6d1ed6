import Foundation
import TemperCore

/// The small files every target starts from, made once per process from the repository's
/// fixtures: a 400-token cut of SmolLM2's tokenizer, a one-layer Llama of hidden size 32 over it,
/// and that model as a Hugging Face folder and as a GGUF file.
///
/// Small on purpose: the fixture tokenizer.json is 3.5 MB and its model 6 MB, which would cap a
/// campaign at a few executions a second; a few kilobytes keep every parser path and run
/// thousands a second.
final class SeedMaterial {
    /// The repository checkout (fixtures/, examples/).
    let root: URL
    /// Tokens kept from the fixture vocabulary: ids below this.
    static let vocabularySize = 400

    init(root: URL) { self.root = root }

    /// Bytes of a repository file.
    func file(_ relative: String) throws -> [UInt8] {
        let url = root.appendingPathComponent(relative)
        guard let data = FileManager.default.contents(atPath: url.path) else { throw FuzzError("seed \(url.path): cannot be read") }
        return [UInt8](data)
    }

    /// The fixture tokenizer.json cut to its first 400 ids: those tokens, the merges among them,
    /// the added tokens below the cut; everything else (pre-tokenizer, decoder) as it is.
    lazy var tokenizerJSON: Result<[UInt8], Error> = Result {
        let data = try file("fixtures/tiny-llama-hf/tokenizer.json")
        guard var root = try JSONSerialization.jsonObject(with: Data(data)) as? [String: Any],
              var model = root["model"] as? [String: Any], let vocab = model["vocab"] as? [String: Int],
              let merges = model["merges"] as? [[String]] else {
            throw FuzzError("fixtures/tiny-llama-hf/tokenizer.json: not the BPE layout the seeds are cut from")
        }
        let kept = vocab.filter { $0.value < Self.vocabularySize }
        model["vocab"] = kept
        model["merges"] = merges.filter { $0.count == 2 && kept[$0[0]] != nil && kept[$0[1]] != nil && kept[$0[0] + $0[1]] != nil }
        root["model"] = model
        root["added_tokens"] = (root["added_tokens"] as? [[String: Any]] ?? []).filter { ($0["id"] as? Int ?? Int.max) < Self.vocabularySize }
        return [UInt8](try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]))
    }

    /// The tiny model's configuration: SmolLM2's token ids (BOS `<|im_start|>` 1, EOS `<|im_end|>` 2).
    var config: ModelConfig {
        ModelConfig(vocabSize: Self.vocabularySize, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1,
                    numAttentionHeads: 4, numKeyValueHeads: 2, rmsNormEps: 1e-5, maxPositionEmbeddings: 64,
                    tieWordEmbeddings: true, bosTokenId: 1, eosTokenIds: [2])
    }

    /// A fresh random tiny model (seeded, so every child builds the same one).
    func model() throws -> LlamaModel { try LlamaModel(config: config, seed: 7) }

    /// Writes the tiny model as a Hugging Face folder (config, safetensors, tokenizer, chat template).
    func writeFolder(_ dir: URL) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let weights = Dictionary(uniqueKeysWithValues: try model().namedParameters.map { ($0.name, $0.tensor) })
        try SafetensorsCheckpoint.write(weights, to: dir)
        try config.huggingFaceJSON().write(to: dir.appendingPathComponent("config.json"))
        try Data(tokenizerJSON.get()).write(to: dir.appendingPathComponent("tokenizer.json"))
        for name in ["tokenizer_config.json", "chat_template.jinja"] {
            try Data(file("fixtures/tiny-llama-hf/" + name)).write(to: dir.appendingPathComponent(name))
        }
    }

    /// The tokenizer of the Hugging Face folder in `dir`.
    func tokenizer(in dir: URL) throws -> Tokenizer { try Tokenizer(directory: dir) }

    /// The tiny model as a GGUF file, with its header length.
    func gguf() throws -> (bytes: [UInt8], headerEnd: Int) {
        let model = try model()
        let tokenizerRoot = try JSONSerialization.jsonObject(with: Data(tokenizerJSON.get())) as? [String: Any]
        let m = tokenizerRoot?["model"] as? [String: Any]
        let vocab = (m?["vocab"] as? [String: Int]) ?? [:]
        var tokens = [String](repeating: "", count: Self.vocabularySize)
        for (t, id) in vocab { tokens[id] = t }
        let merges = ((m?["merges"] as? [[String]]) ?? []).map { $0.joined(separator: " ") }
        let c = config
        var w = GGUFSeedWriter()
        w.metadata("general.architecture", .string("llama"))
        w.metadata("general.alignment", .uint32(32))
        for (key, value) in [("block_count", c.numHiddenLayers), ("context_length", c.maxPositionEmbeddings),
                             ("embedding_length", c.hiddenSize), ("feed_forward_length", c.intermediateSize),
                             ("attention.head_count", c.numAttentionHeads), ("attention.head_count_kv", c.numKeyValueHeads)] {
            w.metadata("llama." + key, .uint32(UInt32(value)))
        }
        w.metadata("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        w.metadata("llama.rope.freq_base", .float32(10_000))
        w.metadata("tokenizer.ggml.model", .string("gpt2"))
        w.metadata("tokenizer.ggml.pre", .string("smollm"))
        w.metadata("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) }))
        w.metadata("tokenizer.ggml.token_type", .array(.int32, tokens.indices.map { .int32($0 < 17 ? 3 : 1) }))
        w.metadata("tokenizer.ggml.merges", .array(.string, merges.map { .string($0) }))
        w.metadata("tokenizer.ggml.bos_token_id", .uint32(1))
        w.metadata("tokenizer.ggml.eos_token_id", .uint32(2))
        w.metadata("tokenizer.ggml.padding_token_id", .uint32(2))
        w.metadata("tokenizer.chat_template", .string(String(decoding: try file("fixtures/tiny-llama-hf/chat_template.jinja"), as: UTF8.self)))
        // One tensor of each stored kind the loader dequantizes: F32, F16 and Q8_0.
        for p in model.namedParameters {
            guard let name = Self.ggufName(p.name) else { continue }
            let type: GGUFSeedWriter.TensorType = p.name.hasSuffix("embed_tokens.weight") ? .q8_0
                : (p.name.contains("mlp.") ? .f16 : .f32)
            w.tensor(name, shape: p.tensor.shape, values: p.tensor.scalars, type: type)
        }
        return w.bytes()
    }

    /// llama.cpp's name for a Hugging Face parameter name of the tiny model.
    private static func ggufName(_ hf: String) -> String? {
        let globals = ["model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"]
        if let g = globals[hf] { return g }
        let modules = ["self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
                       "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
                       "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm"]
        let parts = hf.split(separator: ".")
        guard parts.count >= 5, parts[0] == "model", parts[1] == "layers" else { return nil }
        let module = parts[3..<(parts.count - 1)].joined(separator: ".")
        guard let g = modules[module] else { return nil }
        return "blk.\(parts[2]).\(g).\(parts[parts.count - 1])"
    }
}
