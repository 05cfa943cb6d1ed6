import TemperTensor

/// Maps llama.cpp's tensor names for Llama-family models to Hugging Face names and undoes the
/// converter's row permutation of the query and key projections.
///
/// llama.cpp's converter reorders the rows of `attn_q` / `attn_k` within each head so that RoPE
/// rotates adjacent pairs (dimensions 2i, 2i+1) instead of Hugging Face's split halves (i, i + d/2).
/// Concretely, GGUF row `h·d + 2i + s` holds Hugging Face row `h·d + s·d/2 + i` (head h, pair i,
/// half s). Loading for a Hugging Face-layout decoder must move the rows back.
public enum GGUFLlamaWeights {
    private static let globalNames: [String: String] = [
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    ]

    private static let layerNames: [String: String] = [
        "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
        "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm", "ffn_norm": "post_attention_layernorm",
    ]

    /// The Hugging Face name of a GGUF tensor (`blk.3.attn_q.weight` →
    /// `model.layers.3.self_attn.q_proj.weight`), or nil for a name outside the Llama family.
    public static func huggingFaceName(forGGUF name: String) -> String? {
        if let g = globalNames[name] { return g }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0,
              String(layer) == parts[1], let module = layerNames[String(parts[2])],
              parts[3] == "weight" || parts[3] == "bias" else { return nil }
        return "model.layers.\(layer).\(module).\(parts[3])"
    }

    /// Undoes llama.cpp's RoPE row permutation on a `[heads · headDim, columns]` matrix (or a
    /// `[heads · headDim]` bias), returning a new tensor in Hugging Face row order.
    public static func reversePermutation(_ t: Tensor, heads: Int) -> Tensor {
        permuteRows(t, heads: heads, toHuggingFace: true)
    }

    /// Applies llama.cpp's RoPE row permutation (Hugging Face order → GGUF order); the inverse of
    /// `reversePermutation`, used when writing GGUF files and in tests.
    public static func forwardPermutation(_ t: Tensor, heads: Int) -> Tensor {
        permuteRows(t, heads: heads, toHuggingFace: false)
    }

    /// For each Hugging Face row of a `[heads · headDim]`-row matrix, the GGUF row holding it:
    /// row `h·d + s·d/2 + i` comes from `h·d + 2i + s`.
    static func huggingFaceRowOrder(rows: Int, heads: Int) -> [Int] {
        precondition(heads > 0 && rows % (2 * heads) == 0, "\(rows) rows do not split into \(heads) heads of even size")
        let headDim = rows / heads, half = headDim / 2
        var order = [Int](repeating: 0, count: rows)
        for h in 0..<heads {
            for i in 0..<half {
                for part in 0..<2 { order[h * headDim + part * half + i] = h * headDim + 2 * i + part }
            }
        }
        return order
    }

    private static func permuteRows(_ t: Tensor, heads: Int, toHuggingFace: Bool) -> Tensor {
        precondition(t.dtype == .float32 && (t.rank == 1 || t.rank == 2), "expects a float32 matrix or vector")
        let rows = t.shape[0], cols = t.rank == 2 ? t.shape[1] : 1
        let order = huggingFaceRowOrder(rows: rows, heads: heads)
        let src = t.contiguous()
        let out = Tensor(uninitializedShape: t.shape)
        withExtendedLifetime(src) {
            let s = src.floatPointer, d = out.floatPointer
            for (hf, gg) in order.enumerated() {
                let (from, to) = toHuggingFace ? (gg, hf) : (hf, gg)
                (d + to * cols).update(from: s + from * cols, count: cols)
            }
        }
        return out
    }
}

/// A GGUF file's weights under Hugging Face names: float32 tensors, and with `keepQuantized` the
/// linear projections that stay in their block format.
public struct GGUFLlamaWeightSet {
    /// Float32 tensors (norms, embedding, and any weight not kept quantized).
    public var dense: [String: Tensor] = [:]
    /// Weights kept as blocks (`...q_proj.weight`, ..., `lm_head.weight`, `model.embed_tokens.weight`).
    public var quantized: [String: QuantizedMatrix] = [:]
    /// One line per non-float32 type of projection that is held in float32 although blocks were
    /// asked for (F16 / BF16 weights: they are not block formats).
    public var notes: [String] = []
}

extension GGUFFile {
    /// Every tensor as float32 under its Hugging Face name, with `attn_q` / `attn_k` rows put back in
    /// Hugging Face order for the `llama` architecture (Qwen2 files are converted unpermuted).
    ///
    /// A tensor with no Llama-family name is an error rather than skipped, so a file with extra
    /// parameters (e.g. `rope_freqs`) is never loaded as a silently different model.
    public func huggingFaceWeights(config: ModelConfig) throws -> [String: Tensor] {
        try huggingFaceWeights(config: config, keepQuantized: false).dense
    }

    /// As `huggingFaceWeights(config:)`; with `keepQuantized` the linear projections, the LM head and
    /// the token embedding, where their block type has kernels, stay as `QuantizedMatrix` over the
    /// mapped file (query and key rows reordered by copying whole rows of blocks). Norms are float.
    public func huggingFaceWeights(config: ModelConfig, keepQuantized: Bool) throws -> GGUFLlamaWeightSet {
        let permuted = try metadata.string("general.architecture") == "llama"
        var out = GGUFLlamaWeightSet()
        var fallbacks = [GGMLType: Int]()
        for info in tensorInfos {
            guard let name = GGUFLlamaWeights.huggingFaceName(forGGUF: info.name) else {
                throw ModelFormatError(file: path, "tensor '\(info.name)' has no Hugging Face Llama-family name")
            }
            let isQK = name.hasSuffix("q_proj.weight") || name.hasSuffix("q_proj.bias")
                || name.hasSuffix("k_proj.weight") || name.hasSuffix("k_proj.bias")
            let heads = name.contains("q_proj") ? config.numAttentionHeads : config.numKeyValueHeads
            if permuted && isQK {
                guard info.shape[0] == heads * config.headDim else {
                    throw ModelFormatError(file: path, "tensor '\(info.name)' has \(info.shape[0]) rows, expected \(heads) heads × \(config.headDim)")
                }
            }
            let isProjection = name.hasSuffix("_proj.weight") || name == "lm_head.weight" || name == "model.embed_tokens.weight"
            if keepQuantized && isProjection && info.type != .f32 {
                if var q = try quantizedMatrix(info) {
                    if permuted && isQK {
                        q = try q.gatheringRows(GGUFLlamaWeights.huggingFaceRowOrder(rows: info.shape[0], heads: heads), name: info.name)
                    }
                    out.quantized[name] = q
                    continue
                }
                fallbacks[info.type, default: 0] += 1
            }
            var t = try tensor(named: info.name)
            if permuted && isQK { t = GGUFLlamaWeights.reversePermutation(t, heads: heads) }
            out.dense[name] = t
        }
        out.notes = fallbacks.keys.sorted { $0.rawValue < $1.rawValue }.map { type in
            "\(path): \(fallbacks[type]!) \(type) tensor(s) kept in float32: \(type) is not a block format (blocks kept: \(QuantFormat.allCases.map(\.rawValue).joined(separator: ", ")))"
        }
        return out
    }
}
