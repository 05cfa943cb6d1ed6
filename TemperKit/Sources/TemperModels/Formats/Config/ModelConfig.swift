import Foundation

/// The Llama-family architectures Temper runs. They share one decoder; they differ in defaults and
/// in which projections carry a bias.
public enum ModelArchitecture: String, Sendable, CaseIterable {
    case llama, mistral, qwen2
}

/// The hyperparameters of a Llama-family decoder, read from a Hugging Face `config.json` or from
/// GGUF metadata. Property names follow the Hugging Face keys (`hidden_size` → `hiddenSize`).
public struct ModelConfig: Sendable, Equatable {
    /// Architecture (`model_type`).
    public var modelType: ModelArchitecture
    /// Number of token embeddings (`vocab_size`).
    public var vocabSize: Int
    /// Width of the residual stream (`hidden_size`).
    public var hiddenSize: Int
    /// Width of the SwiGLU MLP (`intermediate_size`).
    public var intermediateSize: Int
    /// Number of decoder layers (`num_hidden_layers`).
    public var numHiddenLayers: Int
    /// Query heads (`num_attention_heads`).
    public var numAttentionHeads: Int
    /// Key/value heads for grouped-query attention (`num_key_value_heads`).
    public var numKeyValueHeads: Int
    /// Width of one head (`head_dim`; `hidden_size / num_attention_heads` when absent).
    public var headDim: Int
    /// Epsilon of every RMSNorm (`rms_norm_eps`).
    public var rmsNormEps: Double
    /// RoPE base frequency (`rope_theta`, or `rope_parameters.rope_theta`).
    public var ropeTheta: Double
    /// Longest context the model was trained for (`max_position_embeddings`).
    public var maxPositionEmbeddings: Int
    /// Whether the LM head shares the token-embedding matrix (`tie_word_embeddings`).
    public var tieWordEmbeddings: Bool
    /// Whether q/k/v projections have a bias (Llama `attention_bias`; always true for Qwen2).
    public var attentionBias: Bool
    /// Whether the output projection `o_proj` has a bias (Llama `attention_bias`; false for Qwen2).
    public var attentionOutputBias: Bool
    /// Beginning-of-sequence token (`bos_token_id`).
    public var bosTokenId: Int?
    /// End-of-sequence tokens (`eos_token_id`, which Hugging Face allows to be a list).
    public var eosTokenIds: [Int]

    /// A configuration from explicit values; `headDim` defaults to `hiddenSize / numAttentionHeads`
    /// and `numKeyValueHeads` to `numAttentionHeads`.
    public init(modelType: ModelArchitecture = .llama, vocabSize: Int, hiddenSize: Int, intermediateSize: Int,
                numHiddenLayers: Int, numAttentionHeads: Int, numKeyValueHeads: Int? = nil, headDim: Int? = nil,
                rmsNormEps: Double = 1e-6, ropeTheta: Double = 10_000, maxPositionEmbeddings: Int = 2048,
                tieWordEmbeddings: Bool = false, attentionBias: Bool? = nil, attentionOutputBias: Bool? = nil,
                bosTokenId: Int? = nil, eosTokenIds: [Int] = []) {
        self.modelType = modelType
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads ?? numAttentionHeads
        self.headDim = headDim ?? (numAttentionHeads > 0 ? hiddenSize / numAttentionHeads : 0)
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.tieWordEmbeddings = tieWordEmbeddings
        self.attentionBias = attentionBias ?? (modelType == .qwen2)
        self.attentionOutputBias = attentionOutputBias ?? (modelType == .qwen2 ? false : (attentionBias ?? false))
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
    }

    /// Checks that the sizes describe a buildable model; `source` names the file in the error.
    public func validate(source: String) throws {
        func fail(_ m: String) -> ModelFormatError { ModelFormatError(file: source, m) }
        for (key, v) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                         ("num_hidden_layers", numHiddenLayers), ("num_attention_heads", numAttentionHeads),
                         ("num_key_value_heads", numKeyValueHeads), ("head_dim", headDim),
                         ("max_position_embeddings", maxPositionEmbeddings)] where v <= 0 {
            throw fail("\(key) is \(v), expected a positive integer")
        }
        guard numAttentionHeads % numKeyValueHeads == 0 else {
            throw fail("num_attention_heads \(numAttentionHeads) is not a multiple of num_key_value_heads \(numKeyValueHeads)")
        }
        guard headDim % 2 == 0 else { throw fail("head_dim \(headDim) must be even for rotary embeddings") }
        guard rmsNormEps > 0 && rmsNormEps.isFinite else { throw fail("rms_norm_eps \(rmsNormEps) must be positive") }
        guard ropeTheta > 0 && ropeTheta.isFinite else { throw fail("rope_theta \(ropeTheta) must be positive") }
        for id in eosTokenIds + (bosTokenId.map { [$0] } ?? []) where id < 0 || id >= vocabSize {
            throw fail("special token id \(id) is outside the vocabulary of \(vocabSize)")
        }
        // Sizes come from files: refuse a model that could not fit before any weight is allocated
        // (a corrupt block_count would otherwise abort the process in the allocator).
        let memory = ProcessInfo.processInfo.physicalMemory
        guard let count = parameterCount, count <= Int(clamping: memory / 4) else {
            let needs = parameterCount.map { String(format: "%.1f GB of float32 weights", Double($0) * 4 / 1e9) } ?? "more weights than can be counted"
            throw fail("the sizes (vocab_size \(vocabSize), hidden_size \(hiddenSize), intermediate_size \(intermediateSize), "
                       + "num_attention_heads \(numAttentionHeads), num_key_value_heads \(numKeyValueHeads), head_dim \(headDim), "
                       + "num_hidden_layers \(numHiddenLayers)) describe a model of \(needs), more than this machine's "
                       + String(format: "%.1f GB of memory", Double(memory) / 1e9))
        }
    }

    /// Weights of a model with these sizes (nil when the count overflows `Int`): embeddings, each
    /// layer's projections and norms, the final norm and an untied head. Biases are not counted.
    public var parameterCount: Int? {
        func product(_ factors: Int...) -> Int? {
            factors.reduce(Int?(1)) { acc, f in
                guard let a = acc else { return nil }
                let (r, overflow) = a.multipliedReportingOverflow(by: f)
                return overflow ? nil : r
            }
        }
        func sum(_ terms: Int?...) -> Int? {
            terms.reduce(Int?(0)) { acc, t in
                guard let a = acc, let t else { return nil }
                let (r, overflow) = a.addingReportingOverflow(t)
                return overflow ? nil : r
            }
        }
        // The attention widths too: num_attention_heads × head_dim from a file can overflow alone.
        let h = hiddenSize
        guard let q = product(numAttentionHeads, headDim), let kv = product(numKeyValueHeads, headDim) else { return nil }
        let layer = sum(product(h, q), product(h, kv), product(h, kv), product(q, h), product(3, h, intermediateSize), product(2, h))
        let embeddings = product(vocabSize, h)
        return sum(embeddings, layer.flatMap { product($0, numHiddenLayers) }, h, tieWordEmbeddings ? 0 : embeddings)
    }
}
