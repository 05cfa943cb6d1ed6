import TemperCore

/// Tiny random Llama-architecture models: real `LlamaModel`s (attention, RoPE, SwiGLU, tied
/// embeddings) small enough for finite-difference checks and fast training tests.
public enum TinyLlama {
    /// 2 layers, hidden 16, FFN 24, 4 query heads sharing 2 KV heads, tied embeddings, 64
    /// positions; `attentionBias` adds q/k/v biases (Qwen2-style).
    public static func config(vocabSize: Int = 61, attentionBias: Bool = false) -> ModelConfig {
        ModelConfig(vocabSize: vocabSize, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2,
                    numAttentionHeads: 4, numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000,
                    maxPositionEmbeddings: 64, tieWordEmbeddings: true, attentionBias: attentionBias)
    }

    /// A model of `config(vocabSize:attentionBias:)` with weights N(0, initStd²) from `seed`; the
    /// large default std makes logits differ visibly between tokens.
    public static func model(vocabSize: Int = 61, attentionBias: Bool = false, seed: UInt64 = 3, initStd: Float = 0.2) throws -> LlamaModel {
        try LlamaModel(config: config(vocabSize: vocabSize, attentionBias: attentionBias), seed: seed, initStd: initStd)
    }
}
