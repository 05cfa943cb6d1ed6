import TemperTensor

/// A Llama-family decoder (Llama, Mistral, Qwen2, SmolLM2): token embedding, pre-norm layers of
/// grouped-query attention with RoPE and a SwiGLU MLP, a final RMSNorm and a tied or untied LM head.
///
/// One code path serves training (full sequences, autograd) and inference (inside `withNoGrad`,
/// with a `KVCache`). Every parameter and linear layer carries its Hugging Face name.
public final class LlamaModel {
    /// The hyperparameters.
    public let config: ModelConfig
    private let denseEmbedding: Tensor?
    /// The token embedding in block format, when the model was loaded keeping a GGUF file's blocks;
    /// a tied LM head then multiplies with the same blocks.
    public let quantizedEmbedding: QuantizedMatrix?
    /// Token embedding `[vocab, hidden]` (`model.embed_tokens.weight`): the tensor itself, or a
    /// decoded float copy of `quantizedEmbedding`.
    public var embedTokens: Tensor {
        if let denseEmbedding { return denseEmbedding }
        let t = quantizedEmbedding!.dequantized()
        t.name = "model.embed_tokens.weight"
        return t
    }
    /// The decoder layers.
    public let layers: [DecoderLayer]
    /// Final norm (`model.norm`).
    public let norm: RMSNorm
    /// The LM head; with tied embeddings its weight *is* `embedTokens` (one tensor, two uses).
    public let lmHead: Linear
    /// The LM head's weight `[vocab, hidden]` when the head is the plain product `h · Wᵀ` — no
    /// adapter, no bias, not block-quantized — so that a loss may fuse it with the softmax
    /// (`Tensor.linearCrossEntropy`) instead of asking for logits; nil for any other head.
    public var denseLMHeadWeight: Tensor? {
        guard lmHead.adapter == nil, lmHead.bias == nil, !lmHead.isQuantized else { return nil }
        return lmHead.weight
    }
    /// Trainable embeddings put before every input (prompt tuning), `[n, hidden]`. They take
    /// positions `0..<n`; their logits are not returned.
    public var virtualTokens: Tensor?
    /// Trainable per-layer keys and values every query attends to first (prefix tuning), each
    /// `[kvHeads, n, headDim]`, as if `n` tokens were already in the KV cache.
    public var prefixKeyValues: [(key: Tensor, value: Tensor)]?

    /// How many decoder layers (the first ones) run under activation checkpointing when training:
    /// their activations are recomputed in backward instead of kept (Hugging Face's
    /// `gradient_checkpointing`, per layer). 0 keeps everything.
    public var checkpointedLayers = 0

    /// Positions taken by prompt- or prefix-tuning tokens before the user's tokens.
    public var prefixLength: Int {
        virtualTokens?.shape[0] ?? prefixKeyValues?.first?.key.shape[1] ?? 0
    }

    /// Builds the model from named weights, checking every name and shape.
    /// `source` names the checkpoint in errors.
    public convenience init(config: ModelConfig, weights: [String: Tensor], source: String) throws {
        var w = WeightSource(tensors: weights, source: source)
        try self.init(config: config, weights: &w)
        try w.checkAllUsed()
    }

    /// A model with freshly initialised weights: N(0, `initStd`²) matrices (Hugging Face's
    /// `initializer_range` default is 0.02), unit norm scales, zero biases; reproducible by `seed`.
    public convenience init(config: ModelConfig, seed: UInt64, initStd: Float = 0.02) throws {
        var w = WeightSource(randomSeed: seed, std: initStd)
        try self.init(config: config, weights: &w)
    }

    init(config: ModelConfig, weights: inout WeightSource) throws {
        try config.validate(source: "model configuration")
        self.config = config
        let h = config.hiddenSize, v = config.vocabSize
        (denseEmbedding, quantizedEmbedding) = try weights.embedding("model.embed_tokens.weight", [v, h])
        layers = try (0..<config.numHiddenLayers).map { try DecoderLayer(index: $0, config: config, weights: &weights) }
        norm = RMSNorm(name: "model.norm", weight: try weights.take("model.norm.weight", [h]), eps: Float(config.rmsNormEps))
        if config.tieWordEmbeddings {
            // Some tied checkpoints also store a copy of the head; the embedding is the head.
            _ = try weights.takeIfPresent("lm_head.weight", [v, h])
            lmHead = quantizedEmbedding.map { Linear(name: "lm_head", quantizedWeight: $0) } ?? Linear(name: "lm_head", weight: denseEmbedding!)
        } else {
            lmHead = try weights.linear("lm_head", out: v, inp: h, bias: false)
        }
    }

    /// Which positions get logits: all (training, scoring) or only the last (generation, where the
    /// `[B, T, vocab]` product would be almost all wasted work).
    public enum LogitPositions: Sendable { case all, last }

    /// Packed rows' attention: keep flags `[B, 1, T, T]`, query `i` seeing key `j` when both carry
    /// the same non-zero segment number (the kernel adds causality); padding sees nothing.
    static func segmentMask(_ segments: Tensor) -> Tensor {
        let b = segments.shape[0], t = segments.shape[1]
        let s = segments.int32Values
        var keep = [Int32](repeating: 0, count: b * t * t)
        for r in 0..<b {
            for i in 0..<t where s[r * t + i] != 0 {
                for j in 0...i where s[r * t + j] == s[r * t + i] { keep[(r * t + i) * t + j] = 1 }
            }
        }
        return Tensor(shape: [b, 1, t, t], int32: keep)
    }

    /// Logits `[B, T, vocab]` (or `[B, 1, vocab]` for `.last`) for int32 token ids `[B, T]`.
    ///
    /// - `cache`: keys/values of earlier positions; this call's are appended to it.
    /// - `attentionMask`: int32 `[B, S]` with S = cached + T positions, 1 for real tokens and 0 for
    ///   padding. Left padding keeps every sequence's last token in the last column. RoPE depends
    ///   only on relative positions, so a left-padded sequence gets the same logits as unpadded.
    ///   Positions of prompt/prefix-tuning tokens are not part of `S`: the model adds them.
    ///   Values above 1 mark a packed row (without a cache or virtual tokens): tokens numbered k
    ///   attend only to earlier tokens numbered k, so each packed example gets the logits it would
    ///   get alone (RoPE's scores depend only on the distance between tokens, so where an example
    ///   starts in the row does not matter).
    public func forward(_ ids: Tensor, cache: KVCache? = nil, attentionMask: Tensor? = nil,
                        positions: LogitPositions = .all) throws -> Tensor {
        let hidden = try hiddenStates(ids, cache: cache, attentionMask: attentionMask, positions: positions)
        return DecodeProfiler.measure(.lmHead) { lmHead(hidden) }
    }

    /// The final-norm hidden states `[B, T, hidden]` (or `[B, 1, hidden]` for `.last`) that the LM
    /// head maps to logits: what a value head (PPO), a reward model's score head or a PRM reads.
    /// Same arguments and checks as `forward`.
    public func hiddenStates(_ ids: Tensor, cache: KVCache? = nil, attentionMask: Tensor? = nil,
                             positions: LogitPositions = .all) throws -> Tensor {
        guard ids.dtype == .int32, ids.rank == 2 else {
            throw ModelInputError("token ids must be an int32 [batch, time] tensor, got \(ids.dtype) \(ids.shape)")
        }
        let b = ids.shape[0], t = ids.shape[1]
        let vocab = Int32(config.vocabSize)
        for (i, id) in ids.int32Values.enumerated() where id < 0 || id >= vocab {
            throw ModelInputError("token id \(id) at position \(i) is outside the vocabulary 0..<\(vocab)")
        }
        if let cache {
            guard cache.batchSize == b else { throw ModelInputError("KV cache is for batch \(cache.batchSize), input has batch \(b)") }
            guard cache.length + t <= cache.capacity else {
                throw ModelInputError("KV cache holds \(cache.capacity) positions; \(cache.length) used + \(t) new do not fit")
            }
        }
        let n = prefixLength
        let cached = cache?.length ?? 0
        // The virtual / prefix tokens enter once: with the first call on a cache, or every call without one.
        let addsPrefix = n > 0 && cached == 0
        let userCached = cache == nil ? 0 : max(cached - n, 0)
        if let m = attentionMask {
            guard m.dtype == .int32, m.shape == [b, userCached + t] else {
                throw ModelInputError("attention mask must be int32 [\(b), \(userCached + t)], got \(m.dtype) \(m.shape)")
            }
        }
        if let cache, addsPrefix, n + t > cache.capacity {
            throw ModelInputError("KV cache holds \(cache.capacity) positions; \(n) prefix + \(t) new do not fit")
        }
        var mask = attentionMask
        if let m = mask, m.int32Values.contains(where: { $0 > 1 }) {
            guard cache == nil, n == 0 else {
                throw ModelInputError("a packed batch (segment numbers above 1 in the attention mask) cannot use a KV cache or virtual tokens")
            }
            mask = Self.segmentMask(m)
        }
        if n > 0, let m = mask {
            mask = Tensor.concat([Tensor(shape: [b, n], int32: [Int32](repeating: 1, count: b * n)), m], axis: 1)
        }
        var x = embed(ids)
        var prefixKV = prefixKeyValues
        if let vt = virtualTokens, addsPrefix {
            x = Tensor.concat([vt.unsqueeze(0).expand([b, n, config.hiddenSize]), x], axis: 1)
            prefixKV = nil
        } else if virtualTokens != nil {
            prefixKV = nil
        }
        let prefix = addsPrefix ? prefixKV : nil
        let offset = cached + (prefix != nil ? n : 0)
        for (i, layer) in layers.enumerated() {
            let layerPrefix = prefix?[i]
            if i < checkpointedLayers && cache == nil && GradMode.isEnabled {
                x = Tensor.checkpoint([x]) { [mask] xs in layer(xs[0], cache: nil, mask: mask, prefix: layerPrefix, positionOffset: offset) }
            } else {
                x = layer(x, cache: cache, mask: mask, prefix: layerPrefix, positionOffset: offset)
            }
        }
        let produced = x.shape[1]
        if addsPrefix && virtualTokens != nil { x = x.narrow(1, start: n, length: produced - n) }
        if positions == .last && x.shape[1] > 1 { x = x.narrow(1, start: x.shape[1] - 1, length: 1) }
        return norm(x)
    }

    /// The token embeddings of int32 `ids` (`[B, T]` → `[B, T, hidden]`), from float rows or decoded
    /// blocks.
    public func embed(_ ids: Tensor) -> Tensor {
        if let quantizedEmbedding { return Tensor.embedding(ids: ids, weight: quantizedEmbedding) }
        return Tensor.embedding(ids: ids, weight: denseEmbedding!)
    }

    /// Every parameter with its Hugging Face name, in checkpoint order. A tied head is listed once,
    /// as `model.embed_tokens.weight`. A block-quantized weight is listed as a decoded float copy.
    public var namedParameters: [NamedParameter] { parameters(includingQuantized: true) }

    /// The parameters held as float tensors, in checkpoint order, without the block-quantized ones:
    /// those are frozen by construction, and listing them would decode a float copy of each (what a
    /// QLoRA base must not do just to freeze or count its weights).
    public var floatNamedParameters: [NamedParameter] { parameters(includingQuantized: false) }

    private func parameters(includingQuantized: Bool) -> [NamedParameter] {
        var out: [NamedParameter] = []
        func add(_ name: String, _ t: Tensor) { out.append(NamedParameter(name: name, tensor: t)) }
        func add(_ lin: Linear) { if includingQuantized || !lin.isQuantized { add("\(lin.name).weight", lin.weight) } }
        if includingQuantized || quantizedEmbedding == nil { add("model.embed_tokens.weight", embedTokens) }
        for l in layers {
            add("\(l.inputLayernorm.name).weight", l.inputLayernorm.weight)
            for lin in [l.selfAttn.qProj, l.selfAttn.kProj, l.selfAttn.vProj, l.selfAttn.oProj] {
                add(lin)
                if let b = lin.bias { add("\(lin.name).bias", b) }
            }
            add("\(l.postAttentionLayernorm.name).weight", l.postAttentionLayernorm.weight)
            for lin in [l.mlp.gateProj, l.mlp.upProj, l.mlp.downProj] { add(lin) }
        }
        add("model.norm.weight", norm.weight)
        if !config.tieWordEmbeddings { add(lmHead) }
        return out
    }

    /// The linear layers inside the decoder layers (q, k, v, o, gate, up, down of each, in that
    /// order), each carrying its Hugging Face module name: what PEFT's `target_modules` (and
    /// `all-linear`, which like PEFT leaves out the LM head) select from. An array, not a dictionary,
    /// so adapters are created in a fixed order and a seeded initialisation is reproducible.
    public var linearLayers: [Linear] {
        layers.flatMap { l in
            [l.selfAttn.qProj, l.selfAttn.kProj, l.selfAttn.vProj, l.selfAttn.oProj, l.mlp.gateProj, l.mlp.upProj, l.mlp.downProj]
        }
    }

    /// Total number of parameters (a tied head counted once).
    public var parameterCount: Int {
        // Block-quantized weights are counted from their shapes, not decoded.
        let quantized = (linearLayers + (config.tieWordEmbeddings ? [] : [lmHead])).compactMap(\.quantizedWeight) + [quantizedEmbedding].compactMap { $0 }
        return floatNamedParameters.reduce(0) { $0 + $1.tensor.count } + quantized.reduce(0) { $0 + $1.rows * $1.columns }
    }
}

/// An invalid input to a model call (ids outside the vocabulary, a mask of the wrong shape, ...).
public struct ModelInputError: Error, CustomStringConvertible {
    /// What was wrong and what was expected.
    public let description: String
    /// An error with the given message.
    public init(_ message: String) { description = message }
}
