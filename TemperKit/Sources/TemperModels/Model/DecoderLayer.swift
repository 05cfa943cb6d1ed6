import TemperTensor

/// RMSNorm with a learned scale, named like its Hugging Face module.
public final class RMSNorm {
    /// Hugging Face module name (`model.layers.0.input_layernorm`).
    public let name: String
    /// Scale `[hidden]`.
    public var weight: Tensor
    /// Epsilon inside the square root.
    public let eps: Float

    /// A norm with the given scale.
    public init(name: String, weight: Tensor, eps: Float) {
        self.name = name
        self.weight = weight
        self.eps = eps
    }

    /// `x / rms(x) * weight` over the last axis.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        DecodeProfiler.measure(.norms) { x.rmsNorm(weight: weight, eps: eps) }
    }
}

/// The outputs of `layers` for the same input `x`. While gradients are off (a decode step, a
/// log-prob pass), layers without bias share one pass over the worker threads, bit-identical to
/// separate products: block-quantized layers without adapters (`Tensor.linears(_: [QuantizedMatrix])`;
/// with int8 activations, quantized once for the group), and float layers (`Tensor.linears`) together with
/// the down projections `A` of their low-rank adapters (LoRA, Hu et al. 2021:
/// `y = x·Wᵀ + ((x·Aᵀ)·s)·Bᵀ`), whose tiny up products follow. The result equals each layer's own
/// forward bit for bit. Any other group (a layer with bias, float and quantized layers mixed, an
/// adapter on a quantized layer, DoRA, (IA)³, LoRA with dropout active) runs each layer's forward.
func project(_ x: Tensor, _ layers: [Linear]) -> [Tensor] {
    DecodeProfiler.measure(.projections) {
        guard !GradMode.isEnabled, !layers.isEmpty, layers.allSatisfy({ $0.bias == nil }) else { return layers.map { $0(x) } }
        let blocks = layers.compactMap { $0.adapter == nil ? $0.quantizedWeight : nil }
        if blocks.count == layers.count { return x.linears(blocks) }
        guard !layers.contains(where: \.isQuantized) else { return layers.map { $0(x) } }
        var updates: [LowRankUpdate?] = []
        for layer in layers {
            guard let adapter = layer.adapter else { updates.append(nil); continue }
            guard let update = adapter.lowRankUpdate else { return layers.map { $0(x) } }
            updates.append(update)
        }
        let lowRank = updates.compactMap { $0 }
        // [x·W₁ᵀ, …, x·Wₙᵀ, x·A₁ᵀ, …, x·Aₘᵀ] in one shared-input pass.
        let products = x.linears(layers.map(\.weight) + lowRank.map(\.a))
        var down = products[layers.count...].makeIterator()
        return zip(products, updates).map { base, update in
            guard let update, let xa = down.next() else { return base }
            // `LoRAAdapter.forward`'s `base + (xa · s)·Bᵀ`, the same bits; `base` is this pass's own.
            return (xa * update.scaling).linear(update.b, addedTo: base)
        }
    }
}

/// Grouped-query self-attention with rotary positions.
public final class Attention {
    /// Projections, by Hugging Face name.
    public let qProj: Linear, kProj: Linear, vProj: Linear, oProj: Linear
    let heads: Int, kvHeads: Int, headDim: Int
    let ropeTheta: Float

    init(prefix: String, config: ModelConfig, weights: inout WeightSource) throws {
        let h = config.hiddenSize, d = config.headDim
        heads = config.numAttentionHeads
        kvHeads = config.numKeyValueHeads
        headDim = d
        ropeTheta = Float(config.ropeTheta)
        func proj(_ n: String, out: Int, inp: Int, bias: Bool) throws -> Linear {
            try weights.linear("\(prefix).\(n)", out: out, inp: inp, bias: bias)
        }
        qProj = try proj("q_proj", out: heads * d, inp: h, bias: config.attentionBias)
        kProj = try proj("k_proj", out: kvHeads * d, inp: h, bias: config.attentionBias)
        vProj = try proj("v_proj", out: kvHeads * d, inp: h, bias: config.attentionBias)
        oProj = try proj("o_proj", out: h, inp: heads * d, bias: config.attentionOutputBias)
    }

    /// `x` `[B, T, hidden]` → `[B, T, hidden]`. With a cache, keys/values of earlier positions are
    /// read from it and this call's are appended; `mask` (int32 `[B, S]`, 1 = keep) hides padding,
    /// or (`[B, 1, T, S]`, packed rows) says which key each query may see.
    /// `prefix` keys/values (`[Hkv, n, D]`, prefix tuning) come before everything else;
    /// `positionOffset` is the RoPE position of `x`'s first token.
    func callAsFunction(_ x: Tensor, layer: Int, cache: KVCache?, mask: Tensor?,
                        prefix: (key: Tensor, value: Tensor)?, positionOffset offset: Int) -> Tensor {
        let b = x.shape[0], t = x.shape[1]
        let qkv = project(x, [qProj, kProj, vProj])
        // [B, T, H·D] → [B, H, T, D]
        let (q, rotatedKey, value) = DecodeProfiler.measure(.ropeAndCache) {
            (qkv[0].reshape([b, t, heads, headDim]).transpose(1, 2).rope(theta: ropeTheta, positionOffset: offset),
             qkv[1].reshape([b, t, kvHeads, headDim]).transpose(1, 2).rope(theta: ropeTheta, positionOffset: offset),
             qkv[2].reshape([b, t, kvHeads, headDim]).transpose(1, 2))
        }
        var k = rotatedKey, v = value
        if let prefix {
            let n = prefix.key.shape[1]
            k = Tensor.concat([prefix.key.unsqueeze(0).expand([b, kvHeads, n, headDim]), k], axis: 2)
            v = Tensor.concat([prefix.value.unsqueeze(0).expand([b, kvHeads, n, headDim]), v], axis: 2)
        }
        if let cache { (k, v) = DecodeProfiler.measure(.ropeAndCache) { cache.append(layer: layer, key: k, value: v) } }
        let keyMask = mask.map { $0.rank == 2 ? $0.reshape([b, 1, 1, $0.shape[1]]) : $0 }
        let out = DecodeProfiler.measure(.attention) {
            Tensor.scaledDotProductAttention(query: q, key: k, value: v, causal: true, mask: keyMask)
        }
        let merged = DecodeProfiler.measure(.elementwise) { out.transpose(1, 2).reshape([b, t, heads * headDim]) }
        return project(merged, [oProj])[0]
    }
}

/// The SwiGLU feed-forward block: `down(silu(gate(x)) * up(x))`.
public final class MLP {
    /// Projections, by Hugging Face name.
    public let gateProj: Linear, upProj: Linear, downProj: Linear

    init(prefix: String, config: ModelConfig, weights: inout WeightSource) throws {
        let h = config.hiddenSize, f = config.intermediateSize
        gateProj = try weights.linear("\(prefix).gate_proj", out: f, inp: h, bias: false)
        upProj = try weights.linear("\(prefix).up_proj", out: f, inp: h, bias: false)
        downProj = try weights.linear("\(prefix).down_proj", out: h, inp: f, bias: false)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
        let gateUp = project(x, [gateProj, upProj])
        let hidden = DecodeProfiler.measure(.elementwise) { gateUp[0].silu() * gateUp[1] }
        return project(hidden, [downProj])[0]
    }
}

/// One pre-norm decoder layer: attention and MLP, each with a residual connection.
public final class DecoderLayer {
    /// Sub-modules, by Hugging Face name.
    public let inputLayernorm: RMSNorm, selfAttn: Attention, postAttentionLayernorm: RMSNorm, mlp: MLP
    let index: Int

    init(index: Int, config: ModelConfig, weights: inout WeightSource) throws {
        let p = "model.layers.\(index)"
        self.index = index
        let eps = Float(config.rmsNormEps)
        inputLayernorm = RMSNorm(name: "\(p).input_layernorm", weight: try weights.take("\(p).input_layernorm.weight", [config.hiddenSize]), eps: eps)
        selfAttn = try Attention(prefix: "\(p).self_attn", config: config, weights: &weights)
        postAttentionLayernorm = RMSNorm(name: "\(p).post_attention_layernorm",
                                         weight: try weights.take("\(p).post_attention_layernorm.weight", [config.hiddenSize]), eps: eps)
        mlp = try MLP(prefix: "\(p).mlp", config: config, weights: &weights)
    }

    /// The layer over whole sequences `[B, T, hidden]` from position 0, without cache or padding
    /// mask — a training forward of one block, e.g. to time it on its own.
    public func forward(_ x: Tensor) -> Tensor {
        self(x, cache: nil, mask: nil, prefix: nil, positionOffset: 0)
    }

    func callAsFunction(_ x: Tensor, cache: KVCache?, mask: Tensor?, prefix: (key: Tensor, value: Tensor)?, positionOffset: Int) -> Tensor {
        let attended = selfAttn(inputLayernorm(x), layer: index, cache: cache, mask: mask, prefix: prefix, positionOffset: positionOffset)
        let h = DecodeProfiler.measure(.elementwise) { x + attended }
        let mixed = mlp(postAttentionLayernorm(h))
        return DecodeProfiler.measure(.elementwise) { h + mixed }
    }
}
