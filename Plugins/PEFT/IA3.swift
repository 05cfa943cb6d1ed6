import TemperCore

/// (IA)³: learned vectors rescale attention keys and values and the feed-forward activations;
/// PEFT's defaults for Llama (`k_proj`, `v_proj`, feed-forward `down_proj`), initialised to ones
/// so training starts from the base model.
public final class IA3: PEFTMethod, LoadablePEFTMethod {
    /// Registered name.
    public static let name = "ia3"
    /// One-line summary for `temper plugins`.
    public static let summary = "(IA)³: learned rescaling of keys, values and feed-forward inputs, PEFT-compatible"
    /// Settings, with PEFT's names and its Llama defaults.
    public static let parameters: [ParameterSpec] = [
        .list("target_modules", of: .string, default: ["k_proj", "v_proj", "down_proj"].map(ParameterValue.string),
              doc: "modules to rescale (names, suffixes, all-linear or a regex)"),
        .list("feedforward_modules", of: .string, default: [.string("down_proj")],
              doc: "targeted modules whose input (not output) is rescaled; must be among target_modules"),
    ]
    /// PEFT's (IA)³ adapters.
    public static let peftTypes = ["IA3"]

    /// The modules of a PEFT IA3 config; layer subsets, extra trained modules and transposed
    /// weights are errors naming the field.
    public static func settings(from config: PEFTAdapterConfig) throws -> [(key: String, value: RawParameterValue)]? {
        try config.rejectSet(["layers_to_transform", "modules_to_save", "fan_in_fan_out"])
        return config.settings(["target_modules", "feedforward_modules"])
    }

    private let targets: TargetModules
    private let feedforward: TargetModules
    private var installed: [(layer: Linear, adapter: IA3Adapter)] = []
    private var premerge: [(layer: Linear, adapter: IA3Adapter, weight: Linear.FrozenWeight, bias: Tensor?)] = []

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        targets = try TargetModules(try config.strings("target_modules"), owner: Self.name)
        feedforward = try TargetModules(try config.strings("feedforward_modules"), owner: Self.name)
    }

    /// Installs a ones-initialised vector on each targeted layer.
    public func apply(to model: any AdaptableModel) throws -> ParameterCount {
        guard installed.isEmpty else { throw SpecError("ia3: already applied to a model") }
        let layers = try targets.select(from: model, owner: Self.name)
        for layer in layers where layer.adapter != nil { throw SpecError("ia3: \(layer.name) already has an adapter") }
        for layer in model.linearLayers where feedforward.matches(layer.name) && !targets.matches(layer.name) {
            throw SpecError("ia3: feedforward module \(layer.name) is not among target_modules")
        }
        freezeBase(model)
        for layer in layers {
            let ff = feedforward.matches(layer.name)
            let scale = Tensor.ones([ff ? layer.inFeatures : layer.outFeatures], requiresGrad: true)
            scale.name = "\(layer.name).ia3_l"
            let adapter = IA3Adapter(module: layer.name, scale: scale, feedforward: ff)
            layer.adapter = adapter
            installed.append((layer, adapter))
        }
        let added = installed.reduce(0) { $0 + $1.adapter.scale.count }
        return ParameterCount(trainable: added, total: baseParameterCount(model) + added)
    }

    /// The scaling vectors, without weight decay (they multiply, and decay would pull them to 0, not 1).
    public func trainableGroups() -> [ParameterGroup] {
        [ParameterGroup(name: "ia3", parameters: installed.flatMap(\.adapter.parameters), weightDecay: 0)]
    }

    /// Folds each vector into its layer's weight (and bias for output scaling).
    public func merge(into model: any AdaptableModel) throws {
        guard !installed.isEmpty else { throw SpecError("ia3: merge before apply") }
        guard premerge.isEmpty else { throw SpecError("ia3: already merged") }
        for (layer, adapter) in installed {
            let merged = adapter.mergedParameters(layer)
            premerge.append((layer, adapter, layer.frozenWeight, layer.bias))
            layer.weight = merged.weight
            layer.bias = merged.bias
            layer.adapter = nil
        }
    }

    /// Restores the original weights and the adapters.
    public func unmerge(from model: any AdaptableModel) throws {
        guard !premerge.isEmpty else { throw SpecError("ia3: unmerge without a merge") }
        for (layer, adapter, weight, bias) in premerge {
            layer.restore(weight)
            layer.bias = bias
            layer.adapter = adapter
        }
        premerge = []
    }

    /// PEFT's IA3 layout: `ia3_l` of shape `[out, 1]`, or `[1, in]` for feed-forward modules.
    public func export() throws -> AdapterExport {
        guard !installed.isEmpty else { throw SpecError("ia3: export before apply") }
        var tensors: [String: Tensor] = [:]
        for (layer, adapter) in installed {
            let shape = adapter.feedforward ? [1, layer.inFeatures] : [layer.outFeatures, 1]
            tensors[AdapterExport.peftKey(module: layer.name, tensor: "ia3_l")] = adapter.scale.detached().reshape(shape).copy()
        }
        let all = Set(installed.map { moduleType($0.layer.name) }).sorted()
        let ff = Set(installed.filter(\.adapter.feedforward).map { moduleType($0.layer.name) }).sorted()
        return AdapterExport(config: [
            "peft_type": .string(Self.peftTypes[0]),
            "task_type": .string("CAUSAL_LM"),
            "base_model_name_or_path": .null,
            "target_modules": .array(all.map(ColumnValue.string)),
            "feedforward_modules": .array(ff.map(ColumnValue.string)),
            "fan_in_fan_out": .bool(false),
            "init_ia3_weights": .bool(true),
            "inference_mode": .bool(true),
            "modules_to_save": .null,
        ], tensors: tensors)
    }

    /// Copies saved `ia3_l` vectors into the installed adapters.
    public func load(_ adapter: AdapterExport) throws {
        guard !installed.isEmpty else { throw SpecError("ia3: load before apply") }
        var saved = SavedAdapterTensors(adapter, owner: Self.name)
        for (layer, a) in installed {
            let shape = a.feedforward ? [1, layer.inFeatures] : [layer.outFeatures, 1]
            try saved.copy(AdapterExport.peftKey(module: layer.name, tensor: "ia3_l"), into: a.scale, savedShape: shape)
        }
        try saved.finish()
    }
}
