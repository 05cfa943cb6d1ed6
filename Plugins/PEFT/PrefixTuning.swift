import TemperCore

/// Prefix tuning (Li & Liang 2021): every layer attends to `num_virtual_tokens` trainable keys and
/// values before the input, as if they were already in the KV cache; the model stays frozen.
///
/// The keys and values are direct parameters (PEFT with `prefix_projection=false`); PEFT adapters
/// trained with the projection MLP load too, since PEFT saves the projected values.
public final class PrefixTuning: PEFTMethod, LoadablePEFTMethod {
    /// Registered name.
    public static let name = "prefix-tuning"
    /// One-line summary for `temper plugins`.
    public static let summary = "prefix tuning: trainable per-layer keys and values before the input, PEFT-compatible"
    /// Settings, with PEFT's names.
    public static let parameters: [ParameterSpec] = [
        .int("num_virtual_tokens", default: 20, range: .atLeast(1), doc: "number of virtual tokens (prefix positions) per layer"),
        .int("seed", default: 42, range: .atLeast(0), doc: "seed of the N(0, 1) initialisation (PEFT's embedding default)"),
    ]
    /// PEFT's prefix-tuning adapters.
    public static let peftTypes = ["PREFIX_TUNING"]

    /// The token count of a PEFT PREFIX_TUNING config (the saved keys and values replace the initialisation).
    public static func settings(from config: PEFTAdapterConfig) throws -> [(key: String, value: RawParameterValue)]? {
        config.settings(["num_virtual_tokens"])
    }

    private let count: Int
    private let seed: UInt64
    private var keyValues: [(key: Tensor, value: Tensor)] = []
    private var kvHeads = 0
    private var headDim = 0

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        count = try config.int("num_virtual_tokens")
        seed = UInt64(try config.int("seed"))
    }

    /// Installs a key and a value tensor `[kv_heads, n, head_dim]` per layer and freezes the model.
    public func apply(to model: any AdaptableModel) throws -> ParameterCount {
        guard keyValues.isEmpty else { throw SpecError("prefix-tuning: already applied to a model") }
        let llama = try llamaModel(model, owner: Self.name, virtualTokens: count)
        kvHeads = llama.config.numKeyValueHeads
        headDim = llama.config.headDim
        let shape = [kvHeads, count, headDim]
        let n = shape.reduce(1, *)
        var rng = PhiloxRNG(seed: seed)
        freezeBase(model)
        keyValues = (0..<llama.config.numHiddenLayers).map { l in
            (trainableLeaf(shape, (0..<n).map { _ in rng.nextNormal() }, name: "prefix.\(l).key"),
             trainableLeaf(shape, (0..<n).map { _ in rng.nextNormal() }, name: "prefix.\(l).value"))
        }
        llama.prefixKeyValues = keyValues
        let added = 2 * keyValues.count * n
        return ParameterCount(trainable: added, total: baseParameterCount(model) + added)
    }

    /// Every layer's prefix keys and values.
    public func trainableGroups() -> [ParameterGroup] {
        let params = keyValues.enumerated().flatMap { l, kv in
            [NamedParameter(name: "prefix.\(l).key", tensor: kv.key), NamedParameter(name: "prefix.\(l).value", tensor: kv.value)]
        }
        return [ParameterGroup(name: "prefix-tuning", parameters: params)]
    }

    /// Prefixes are attention state, not weights: nothing to merge.
    public func merge(into model: any AdaptableModel) throws {
        throw SpecError("prefix-tuning: prefix keys and values cannot be merged into the weights; keep the adapter")
    }

    /// Nothing to unmerge.
    public func unmerge(from model: any AdaptableModel) throws {
        throw SpecError("prefix-tuning: prefixes cannot be merged, so not unmerged either")
    }

    /// Element `[t, ((2·layer + kv)·heads + h)·head_dim + d]` of PEFT's `prompt_embeddings` holds
    /// key (kv = 0) or value (kv = 1) `[h, t, d]` of `layer`: PEFT views each row as
    /// `[layers·2, heads, head_dim]`, with the key-value head count for grouped-query models.
    private var rowWidth: Int { keyValues.count * 2 * kvHeads * headDim }

    private func index(layer: Int, kv: Int, head: Int, token: Int, dim: Int) -> Int {
        token * rowWidth + ((2 * layer + kv) * kvHeads + head) * headDim + dim
    }

    /// PEFT's PREFIX_TUNING layout (see `index`).
    public func export() throws -> AdapterExport {
        guard !keyValues.isEmpty else { throw SpecError("prefix-tuning: export before apply") }
        var flat = [Float](repeating: 0, count: count * rowWidth)
        for (l, kv) in keyValues.enumerated() {
            for (k, t) in [kv.key, kv.value].enumerated() {
                let v = t.scalars
                for h in 0..<kvHeads { for tok in 0..<count { for d in 0..<headDim {
                    flat[index(layer: l, kv: k, head: h, token: tok, dim: d)] = v[(h * count + tok) * headDim + d]
                } } }
            }
        }
        let tokenDim = kvHeads * headDim
        return AdapterExport(config: [
            "peft_type": .string(Self.peftTypes[0]),
            "task_type": .string("CAUSAL_LM"),
            "base_model_name_or_path": .null,
            "num_virtual_tokens": .number(Double(count)),
            "token_dim": .number(Double(tokenDim)),
            "encoder_hidden_size": .number(Double(tokenDim)),
            "num_transformer_submodules": .number(1),
            "num_attention_heads": .number(Double(kvHeads)),
            "num_layers": .number(Double(keyValues.count)),
            "prefix_projection": .bool(false),
            "inference_mode": .bool(true),
        ], tensors: ["prompt_embeddings": Tensor(shape: [count, rowWidth], scalars: flat)])
    }

    /// Copies saved `prompt_embeddings` into the per-layer keys and values.
    public func load(_ adapter: AdapterExport) throws {
        guard !keyValues.isEmpty else { throw SpecError("prefix-tuning: load before apply") }
        // One row per virtual token: every layer's keys then values, kv_heads × head_dim each.
        var tensors = SavedAdapterTensors(adapter, owner: Self.name)
        let saved = try tensors.take("prompt_embeddings", shape: [count, rowWidth])
        try tensors.finish()
        let flat = saved.scalars
        for (l, kv) in keyValues.enumerated() {
            for (k, t) in [kv.key, kv.value].enumerated() {
                t.withUnsafeMutableBufferPointer { p in
                    for h in 0..<kvHeads { for tok in 0..<count { for d in 0..<headDim {
                        p[(h * count + tok) * headDim + d] = flat[index(layer: l, kv: k, head: h, token: tok, dim: d)]
                    } } }
                }
            }
        }
    }
}
