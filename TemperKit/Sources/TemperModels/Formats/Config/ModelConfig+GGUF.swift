extension ModelConfig {
    /// Reads the configuration from a GGUF file's metadata (`general.architecture`, then
    /// `<arch>.block_count`, `<arch>.embedding_length`, ...), taking the vocabulary size from the
    /// token list and the tied LM head from the absence of an `output.weight` tensor.
    public init(gguf: GGUFFile) throws {
        let m = gguf.metadata
        let archName = try m.string("general.architecture")
        let arch: ModelArchitecture
        switch archName {
        case "llama": arch = .llama        // llama.cpp also stores Mistral models as "llama"
        case "mistral": arch = .mistral
        case "qwen2": arch = .qwen2
        default:
            throw ModelFormatError(file: gguf.path, "GGUF architecture '\(archName)' is not supported (expected llama, mistral or qwen2)")
        }
        let p = archName + "."
        let heads = try m.int(p + "attention.head_count")
        let hidden = try m.int(p + "embedding_length")

        let vocab: Int
        if let n = try m.arrayCount("tokenizer.ggml.tokens") { vocab = n }
        else if let n = try m.intIfPresent(p + "vocab_size") { vocab = n }
        else if let e = gguf.tensorInfo(named: "token_embd.weight"), e.dimensions.count == 2 { vocab = e.dimensions[1] }
        else { throw ModelFormatError(file: gguf.path, "cannot tell the vocabulary size: no 'tokenizer.ggml.tokens', '\(p)vocab_size' or 'token_embd.weight'") }

        if let type = try m.stringIfPresent(p + "rope.scaling.type"), type != "none" {
            throw ModelFormatError(file: gguf.path, "GGUF metadata key '\(p)rope.scaling.type' is '\(type)', which is not supported")
        }
        var eos = [Int]()
        if let e = try m.intIfPresent("tokenizer.ggml.eos_token_id") { eos.append(e) }
        if let e = try m.intIfPresent("tokenizer.ggml.eot_token_id"), !eos.contains(e) { eos.append(e) }

        self.init(modelType: arch,
                  vocabSize: vocab,
                  hiddenSize: hidden,
                  intermediateSize: try m.int(p + "feed_forward_length"),
                  numHiddenLayers: try m.int(p + "block_count"),
                  numAttentionHeads: heads,
                  numKeyValueHeads: try m.intIfPresent(p + "attention.head_count_kv"),
                  headDim: try m.intIfPresent(p + "attention.key_length"),
                  rmsNormEps: try m.double(p + "attention.layer_norm_rms_epsilon"),
                  ropeTheta: try m.doubleIfPresent(p + "rope.freq_base") ?? 10_000,
                  maxPositionEmbeddings: try m.int(p + "context_length"),
                  tieWordEmbeddings: gguf.tensorInfo(named: "output.weight") == nil,
                  attentionBias: gguf.tensorInfo(named: "blk.0.attn_q.bias") != nil,
                  attentionOutputBias: gguf.tensorInfo(named: "blk.0.attn_output.bias") != nil,
                  bosTokenId: try m.intIfPresent("tokenizer.ggml.bos_token_id"),
                  eosTokenIds: eos)
        try validate(source: gguf.path)
    }
}
