import TemperCore

/// __component__: on each targeted linear layer a frozen random down-projection `A` `[r, in]` and a
/// trained up-projection `B` `[out, r]`, `y = W·x + b + s·B·(A·x)` with `s = alpha / r` (LoRA-FA,
/// Zhang et al. 2023). Only `B` trains, so the optimizer keeps half of LoRA's state; `B` starts at
/// zero, so training starts from the base model. Adapters are saved in PEFT's layout under their
/// own `peft_type`, reload (`temper merge`, evaluation) and merge into the weights.
/// Template: replace the adapter's `forward`, `merge` and the saved tensors with your method.
public final class __Name__: LoadablePEFTMethod {
    /// Registered name: the spec `--peft __component__:r=8` selects it.
    public static let name = "__component__"
    /// One line for `temper plugins`.
    public static let summary = "frozen random A, trained B low-rank update (LoRA-FA; template: edit me)"
    /// Settings, checked by the host before `init(config:)` runs.
    public static let parameters: [ParameterSpec] = [
        .int("r", default: 8, range: .atLeast(1), doc: "rank of the update B·A"),
        .float("alpha", default: 16, range: .greaterThan(0), doc: "the update is scaled by alpha / r"),
        .list("target_modules", of: .string, default: [.string("q_proj"), .string("v_proj")],
              doc: "modules to adapt: full names, suffixes (q_proj) or all-linear"),
        .int("seed", default: 0, range: .atLeast(0), doc: "seed of A's N(0, 1/r) draw"),
    ]
    /// The `peft_type` this method writes and reads back.
    public static let peftTypes = ["__SYMBOL__"]

    /// The update on one layer; the host's `Linear` calls `forward` instead of its plain product.
    final class Adapter: LinearAdapter {
        let module: String
        let a: Tensor
        let b: Tensor
        let scaling: Float

        init(module: String, a: Tensor, b: Tensor, scaling: Float) {
            self.module = module
            self.a = a
            self.b = b
            self.scaling = scaling
        }

        var parameters: [NamedParameter] { [NamedParameter(name: "\(module).B.weight", tensor: b)] }

        func forward(_ x: Tensor, layer: Linear) -> Tensor {
            // Scaling the r-wide intermediate is cheaper than scaling the out-wide result.
            layer.baseForward(x) + (x.linear(a) * scaling).linear(b)
        }
    }

    let rank: Int
    let alpha: Float
    let targets: [String]
    let seed: UInt64
    private var installed: [(layer: Linear, adapter: Adapter)] = []
    /// Base weights replaced by `merge`, put back by `unmerge`.
    private var premerge: [Tensor] = []

    /// Reads the validated settings.
    public init(config: ComponentConfig) throws {
        rank = try config.int("r")
        alpha = try config.float("alpha")
        targets = try config.strings("target_modules")
        seed = UInt64(try config.int("seed"))
    }

    /// Freezes the model and installs a frozen random A and a zero, trainable B on every target layer.
    public func apply(to model: any AdaptableModel) throws -> ParameterCount {
        guard installed.isEmpty else { throw SpecError("\(Self.name): already applied to a model") }
        let layers = model.linearLayers.filter { layer in
            targets.contains { $0 == "all-linear" || layer.name == $0 || layer.name.hasSuffix("." + $0) }
        }
        guard !layers.isEmpty else { throw SpecError("\(Self.name): target_modules \(targets) matches no linear layer") }
        if let taken = layers.first(where: { $0.adapter != nil }) { throw SpecError("\(Self.name): \(taken.name) already has an adapter") }
        for p in model.namedParameters { p.tensor.requiresGrad = false }
        var rng = PhiloxRNG(seed: seed)
        for layer in layers {
            let a = Tensor.randn([rank, layer.inFeatures], std: 1 / Float(rank).squareRoot(), rng: &rng)
            let b = Tensor.zeros([layer.outFeatures, rank], requiresGrad: true)
            let adapter = Adapter(module: layer.name, a: a, b: b, scaling: alpha / Float(rank))
            layer.adapter = adapter
            installed.append((layer, adapter))
        }
        let trainable = installed.reduce(0) { $0 + $1.adapter.b.count }
        let frozen = model.namedParameters.reduce(0) { $0 + $1.tensor.count } + installed.reduce(0) { $0 + $1.adapter.a.count }
        return ParameterCount(trainable: trainable, total: frozen + trainable)
    }

    /// The B factors: all the optimizer updates.
    public func trainableGroups() -> [ParameterGroup] {
        [ParameterGroup(name: "B", parameters: installed.flatMap(\.adapter.parameters))]
    }

    /// W ← W + s·B·A on every adapted layer, which then runs without its adapter.
    public func merge(into model: any AdaptableModel) throws {
        guard !installed.isEmpty else { throw SpecError("\(Self.name): merge before apply") }
        guard premerge.isEmpty else { throw SpecError("\(Self.name): already merged") }
        for (layer, adapter) in installed {
            premerge.append(layer.weight)
            layer.weight = withNoGrad { layer.weight.detached() + adapter.b.detached().matmul(adapter.a) * adapter.scaling }
            layer.adapter = nil
        }
    }

    /// Puts back the weights `merge` replaced and the adapters it removed.
    public func unmerge(from model: any AdaptableModel) throws {
        guard !premerge.isEmpty else { throw SpecError("\(Self.name): not merged") }
        for ((layer, adapter), weight) in zip(installed, premerge) {
            layer.weight = weight
            layer.adapter = adapter
        }
        premerge = []
    }

    /// Both factors under PEFT-style keys (`base_model.model.<module>.A.weight`): A is random, so
    /// a reload needs it as much as the trained B.
    public func export() throws -> AdapterExport {
        guard !installed.isEmpty else { throw SpecError("\(Self.name): export before apply") }
        var tensors: [String: Tensor] = [:]
        for (layer, adapter) in installed {
            tensors[AdapterExport.peftKey(module: layer.name, tensor: "A.weight")] = adapter.a.copy()
            tensors[AdapterExport.peftKey(module: layer.name, tensor: "B.weight")] = adapter.b.detached().copy()
        }
        return AdapterExport(config: [
            "peft_type": .string(Self.peftTypes[0]),
            "task_type": .string("CAUSAL_LM"),
            "r": .number(Double(rank)),
            "alpha": .number(Double(alpha)),
            "target_modules": .array(targets.map(ColumnValue.string)),
        ], tensors: tensors)
    }

    /// The settings that select and shape the same adapters again (the saved A replaces the seed's).
    public static func settings(from config: PEFTAdapterConfig) throws -> [(key: String, value: RawParameterValue)]? {
        config.settings(["r", "alpha", "target_modules"])
    }

    /// Copies saved A and B factors into the installed adapters (after `apply` with the saved settings).
    public func load(_ adapter: AdapterExport) throws {
        guard !installed.isEmpty else { throw SpecError("\(Self.name): load before apply") }
        var saved = SavedAdapterTensors(adapter, owner: Self.name)
        for (layer, a) in installed {
            try saved.copy(AdapterExport.peftKey(module: layer.name, tensor: "A.weight"), into: a.a)
            try saved.copy(AdapterExport.peftKey(module: layer.name, tensor: "B.weight"), into: a.b)
        }
        try saved.finish()
    }
}
