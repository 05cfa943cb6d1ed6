import TemperCore

/// Prompt tuning (Lester et al. 2021): `num_virtual_tokens` trainable embeddings are put before
/// every input; the model stays frozen. Initialised randomly (N(0, 1), as PEFT's embedding) or
/// from the embeddings of a text's tokens, repeated or cut to length as PEFT does.
public final class PromptTuning: PEFTMethod, LoadablePEFTMethod {
    /// Registered name.
    public static let name = "prompt-tuning"
    /// One-line summary for `temper plugins`.
    public static let summary = "prompt tuning: trainable virtual token embeddings before the input, PEFT-compatible"
    /// Settings, with PEFT's names.
    public static let parameters: [ParameterSpec] = [
        .int("num_virtual_tokens", default: 20, range: .atLeast(1), doc: "number of trainable virtual tokens"),
        .choice("prompt_tuning_init", ["random", "text"], default: "random",
                doc: "random: N(0, 1) embeddings; text: the embeddings of prompt_tuning_init_text's tokens"),
        .string("prompt_tuning_init_text", default: "", doc: "text whose token embeddings initialise the virtual tokens (prompt_tuning_init=text)"),
        .string("tokenizer_name_or_path", default: "", doc: "model folder or GGUF file whose tokenizer splits prompt_tuning_init_text"),
        .int("seed", default: 42, range: .atLeast(0), doc: "seed of the random initialisation"),
    ]
    /// PEFT's prompt-tuning adapters.
    public static let peftTypes = ["PROMPT_TUNING"]

    /// The token count of a PEFT PROMPT_TUNING config (the initialisation is replaced by the saved embeddings).
    public static func settings(from config: PEFTAdapterConfig) throws -> [(key: String, value: RawParameterValue)]? {
        config.settings(["num_virtual_tokens"])
    }

    private let count: Int
    private let initFromText: Bool
    private let initText: String
    private let tokenizerPath: String
    private let seed: UInt64
    private var tokens: Tensor?
    private var tokenDim = 0
    private var layerCount = 0
    private var headCount = 0

    /// Reads the settings; text initialisation needs both the text and a tokenizer.
    public init(config: ComponentConfig) throws {
        count = try config.int("num_virtual_tokens")
        initFromText = try config.string("prompt_tuning_init") == "text"
        initText = try config.string("prompt_tuning_init_text")
        tokenizerPath = try config.string("tokenizer_name_or_path")
        seed = UInt64(try config.int("seed"))
        if initFromText && (initText.isEmpty || tokenizerPath.isEmpty) {
            throw SpecError("prompt-tuning: prompt_tuning_init=text needs prompt_tuning_init_text and tokenizer_name_or_path (the model's folder or GGUF file)")
        }
    }

    /// Installs the virtual tokens on the model and freezes everything else.
    public func apply(to model: any AdaptableModel) throws -> ParameterCount {
        guard tokens == nil else { throw SpecError("prompt-tuning: already applied to a model") }
        let llama = try llamaModel(model, owner: Self.name, virtualTokens: count)
        let hidden = llama.config.hiddenSize
        var values: [Float]
        if initFromText {
            let ids = try loadTokenizer(tokenizerPath, owner: Self.name).encode(initText)
            guard !ids.isEmpty else { throw SpecError("prompt-tuning: prompt_tuning_init_text tokenizes to nothing") }
            let embeddings = llama.embedTokens.contiguous()
            values = []
            values.reserveCapacity(count * hidden)
            let p = embeddings.floatPointer
            try withExtendedLifetime(embeddings) {
                for i in 0..<count {
                    let id = Int(ids[i % ids.count])
                    guard id < llama.config.vocabSize else {
                        throw SpecError("prompt-tuning: the tokenizer at \(tokenizerPath) gives id \(id), outside the model's vocabulary")
                    }
                    values.append(contentsOf: UnsafeBufferPointer(start: p + id * hidden, count: hidden))
                }
            }
        } else {
            var rng = PhiloxRNG(seed: seed)
            values = (0..<(count * hidden)).map { _ in rng.nextNormal() }
        }
        freezeBase(model)
        let t = trainableLeaf([count, hidden], values, name: "prompt_embeddings")
        llama.virtualTokens = t
        tokens = t
        tokenDim = hidden
        layerCount = llama.config.numHiddenLayers
        headCount = llama.config.numAttentionHeads
        return ParameterCount(trainable: t.count, total: baseParameterCount(model) + t.count)
    }

    /// The virtual token embeddings.
    public func trainableGroups() -> [ParameterGroup] {
        tokens.map { [ParameterGroup(name: "prompt-tuning", parameters: [NamedParameter(name: "prompt_embeddings", tensor: $0)])] } ?? []
    }

    /// Virtual tokens are input, not weights: nothing to merge.
    public func merge(into model: any AdaptableModel) throws {
        throw SpecError("prompt-tuning: virtual tokens cannot be merged into the weights; keep the adapter")
    }

    /// Nothing to unmerge.
    public func unmerge(from model: any AdaptableModel) throws {
        throw SpecError("prompt-tuning: virtual tokens cannot be merged, so not unmerged either")
    }

    /// PEFT's PROMPT_TUNING layout: `prompt_embeddings` `[num_virtual_tokens, hidden]`.
    public func export() throws -> AdapterExport {
        guard let tokens else { throw SpecError("prompt-tuning: export before apply") }
        return AdapterExport(config: [
            "peft_type": .string(Self.peftTypes[0]),
            "task_type": .string("CAUSAL_LM"),
            "base_model_name_or_path": .null,
            "num_virtual_tokens": .number(Double(count)),
            "token_dim": .number(Double(tokenDim)),
            "num_transformer_submodules": .number(1),
            "num_attention_heads": .number(Double(headCount)),
            "num_layers": .number(Double(layerCount)),
            "prompt_tuning_init": .string(initFromText ? "TEXT" : "RANDOM"),
            "prompt_tuning_init_text": initFromText ? .string(initText) : .null,
            "tokenizer_name_or_path": initFromText ? .string(tokenizerPath) : .null,
            "inference_mode": .bool(true),
        ], tensors: ["prompt_embeddings": tokens.copy()])
    }

    /// Copies saved `prompt_embeddings` into the virtual tokens.
    public func load(_ adapter: AdapterExport) throws {
        guard let tokens else { throw SpecError("prompt-tuning: load before apply") }
        var saved = SavedAdapterTensors(adapter, owner: Self.name)
        try saved.copy("prompt_embeddings", into: tokens)
        try saved.finish()
    }
}
