import Foundation

extension ModelConfig {
    /// Reads a Hugging Face `config.json` (a file, or a directory holding one).
    public init(huggingFaceConfigAt url: URL) throws {
        var isDir: ObjCBool = false
        let file = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
            ? url.appendingPathComponent("config.json") : url
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw ModelFormatError(file: file.path, "cannot read: \(error.localizedDescription)")
        }
        try self.init(huggingFaceJSON: data, source: file.path)
    }

    /// Parses the bytes of a Hugging Face `config.json`; `source` names it in errors.
    ///
    /// Features the decoder does not implement (rope scaling, an MLP bias, an activation other than
    /// SiLU) are errors rather than silently ignored, because ignoring them would give wrong logits.
    public init(huggingFaceJSON data: Data, source: String) throws {
        guard let root = try JSONValue.parse(data, source: source).objectValue else {
            throw ModelFormatError(file: source, "is not a JSON object")
        }
        let c = JSONFields(root, source: source)
        let typeName = try c.string("model_type")
        guard let arch = ModelArchitecture(rawValue: typeName) else {
            throw ModelFormatError(file: source, "model_type '\(typeName)' is not supported (expected one of: \(ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let act = try c.optionalString("hidden_act"), act != "silu" {
            throw ModelFormatError(file: source, "hidden_act '\(act)' is not supported (expected 'silu')")
        }
        if try c.optionalBool("mlp_bias") == true {
            throw ModelFormatError(file: source, "mlp_bias true is not supported")
        }

        // Rope settings live at the top level in older configs and under `rope_parameters` in newer.
        let rope = try c.optionalObject("rope_parameters")
        var theta = try c.optionalDouble("rope_theta")
        if let rope {
            let r = JSONFields(rope, source: source, prefix: "rope_parameters.")
            theta = try r.optionalDouble("rope_theta") ?? theta
            if let kind = try r.optionalString("rope_type"), kind != "default" {
                throw ModelFormatError(file: source, "rope_parameters.rope_type '\(kind)' is not supported (expected 'default')")
            }
        }
        if let scaling = try c.optionalObject("rope_scaling") {
            let kind = (scaling["rope_type"] ?? scaling["type"])?.stringValue ?? "unknown"
            if kind != "default" {
                throw ModelFormatError(file: source, "rope_scaling of type '\(kind)' is not supported")
            }
        }

        let heads = try c.int("num_attention_heads")
        let hidden = try c.int("hidden_size")
        let bias = try c.optionalBool("attention_bias")
        let eos: [Int]
        if let list = root["eos_token_id"]?.arrayValue {
            eos = try list.enumerated().map { i, v in
                guard let n = v.intValue else { throw ModelFormatError(file: source, "eos_token_id[\(i)] is not an integer") }
                return n
            }
        } else {
            eos = try c.optionalInt("eos_token_id").map { [$0] } ?? []
        }
        self.init(modelType: arch,
                  vocabSize: try c.int("vocab_size"),
                  hiddenSize: hidden,
                  intermediateSize: try c.int("intermediate_size"),
                  numHiddenLayers: try c.int("num_hidden_layers"),
                  numAttentionHeads: heads,
                  numKeyValueHeads: try c.optionalInt("num_key_value_heads"),
                  headDim: try c.optionalInt("head_dim"),
                  rmsNormEps: try c.optionalDouble("rms_norm_eps") ?? 1e-6,
                  ropeTheta: theta ?? 10_000,
                  maxPositionEmbeddings: try c.optionalInt("max_position_embeddings") ?? Self.defaultMaxPositions(arch),
                  tieWordEmbeddings: try c.optionalBool("tie_word_embeddings") ?? false,
                  attentionBias: arch == .qwen2 ? true : (bias ?? false),
                  attentionOutputBias: arch == .qwen2 ? false : (bias ?? false),
                  bosTokenId: try c.optionalInt("bos_token_id"),
                  eosTokenIds: eos)
        try validate(source: source)
    }

    /// `max_position_embeddings` of each Hugging Face config class, for files that leave it out.
    private static func defaultMaxPositions(_ arch: ModelArchitecture) -> Int {
        switch arch {
        case .llama: return 2048
        case .mistral: return 4096 * 32
        case .qwen2: return 32768
        }
    }

    /// The configuration as a Hugging Face `config.json` object, for saving a checkpoint that
    /// transformers can load; `torchDtype` names the storage type of the saved weights. RoPE's base
    /// is written both at the top level (transformers 4) and under `rope_parameters` (transformers 5).
    public func huggingFaceJSON(torchDtype: String = "float32") throws -> Data {
        var o: [String: Any] = [
            "model_type": modelType.rawValue,
            "architectures": [["llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"][modelType.rawValue]!],
            "vocab_size": vocabSize, "hidden_size": hiddenSize, "intermediate_size": intermediateSize,
            "num_hidden_layers": numHiddenLayers, "num_attention_heads": numAttentionHeads,
            "num_key_value_heads": numKeyValueHeads, "head_dim": headDim, "rms_norm_eps": rmsNormEps,
            "rope_theta": ropeTheta, "max_position_embeddings": maxPositionEmbeddings,
            "tie_word_embeddings": tieWordEmbeddings, "hidden_act": "silu", "torch_dtype": torchDtype,
            "rope_parameters": ["rope_theta": ropeTheta, "rope_type": "default"] as [String: Any],
        ]
        if modelType != .qwen2 { o["attention_bias"] = attentionBias }
        if let bosTokenId { o["bos_token_id"] = bosTokenId }
        if let eos = huggingFaceEOSValue { o["eos_token_id"] = eos }
        return try JSONSerialization.data(withJSONObject: o, options: [.prettyPrinted, .sortedKeys])
    }
}

/// Typed reads from a parsed JSON object, with errors naming the file and key. A key that is
/// absent or `null` reads as nil from the optional accessors.
struct JSONFields {
    let object: [String: JSONValue]
    let source: String
    let prefix: String

    init(_ object: [String: JSONValue], source: String, prefix: String = "") {
        self.object = object
        self.source = source
        self.prefix = prefix
    }

    private func present(_ key: String) -> JSONValue? {
        guard let v = object[key], v != .null else { return nil }
        return v
    }

    private func wrong(_ key: String, _ v: JSONValue, _ expected: String) -> ModelFormatError {
        ModelFormatError(file: source, "'\(prefix)\(key)' is \(v.summary), expected \(expected)")
    }

    private func missing(_ key: String) -> ModelFormatError {
        ModelFormatError(file: source, "'\(prefix)\(key)' is missing")
    }

    func int(_ key: String) throws -> Int {
        guard let v = try optionalInt(key) else { throw missing(key) }
        return v
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let v = present(key) else { return nil }
        guard let n = v.intValue else { throw wrong(key, v, "an integer") }
        return n
    }

    func optionalDouble(_ key: String) throws -> Double? {
        guard let v = present(key) else { return nil }
        guard let d = v.doubleValue else { throw wrong(key, v, "a number") }
        return d
    }

    func string(_ key: String) throws -> String {
        guard let v = try optionalString(key) else { throw missing(key) }
        return v
    }

    func optionalString(_ key: String) throws -> String? {
        guard let v = present(key) else { return nil }
        guard let s = v.stringValue else { throw wrong(key, v, "a string") }
        return s
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let v = present(key) else { return nil }
        guard let b = v.boolValue else { throw wrong(key, v, "true or false") }
        return b
    }

    func optionalObject(_ key: String) throws -> [String: JSONValue]? {
        guard let v = present(key) else { return nil }
        guard let o = v.objectValue else { throw wrong(key, v, "an object") }
        return o
    }
}
