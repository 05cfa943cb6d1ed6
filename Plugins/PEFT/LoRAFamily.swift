import Foundation
import TemperCore

/// What `lora` and `dora` share: settings, adapter installation, merging and the PEFT format.
/// `dora` differs only in giving each adapter a magnitude vector.
public class LoRAFamily {
    /// `lora` or `dora`, for messages.
    let methodName: String
    let rank: Int
    let alpha: Float
    let dropout: Float
    let targets: TargetModules
    let useRSLoRA: Bool
    let initialization: String
    let pissaIterations: Int
    let loraplusRatio: Float?
    let seed: UInt64
    let useDoRA: Bool

    /// Installed adapters with their layers, in the model's order.
    private(set) var installed: [(layer: Linear, adapter: LoRAAdapter)] = []
    /// PiSSA's initial factors, kept so an export can be rewritten relative to the original weights.
    private var pissaInitial: [String: (a: Tensor, b: Tensor)] = [:]
    /// Weights replaced by `merge`, restored bit for bit by `unmerge`.
    private var premerge: [(layer: Linear, adapter: LoRAAdapter, weight: Linear.FrozenWeight)] = []

    static func parameters(dora: Bool) -> [ParameterSpec] {
        [
            .int("r", default: 8, range: .atLeast(1), aliases: ["lora_r", "rank"], doc: "rank of the update B·A"),
            .float("lora_alpha", default: 8, range: .greaterThan(0), aliases: ["alpha"], doc: "scaling numerator: the update is multiplied by lora_alpha / r (or / √r with use_rslora)"),
            .float("lora_dropout", default: 0, range: .halfOpen(0, 1), aliases: ["dropout"], doc: "dropout on the adapter's input during training"),
            .list("target_modules", of: .string, default: [.string("q_proj"), .string("v_proj")],
                  doc: "modules to adapt: names or suffixes (q_proj, self_attn.o_proj), all-linear, or a regex over full names"),
            .bool("use_rslora", default: false, doc: "rank-stabilised scaling lora_alpha / √r (Kalajdzievski 2023)"),
            .choice("init_lora_weights", dora ? ["kaiming", "gaussian"] : ["kaiming", "gaussian", "pissa"], default: "kaiming",
                    doc: "A's initialisation (B starts at zero): kaiming-uniform (PEFT's default), gaussian N(0, 1/r²)"
                        + (dora ? "" : ", or pissa: A, B from the top-r singular vectors of W, the residual kept as the frozen weight")),
            .int("pissa_niter", default: 8, range: .atLeast(0), doc: "subspace iterations of PiSSA's randomised SVD (exact when r + 8 ≥ min(out, in))"),
            .float("loraplus_lr_ratio", default: 1, range: .greaterThan(0), doc: "LoRA+ (Hayou et al. 2024): B's learning rate is this many times A's"),
            .int("seed", default: 42, range: .atLeast(0), doc: "seed of the initialisation (dropout masks follow the trainer's seed, step and micro-batch)"),
        ]
    }

    init(config: ComponentConfig, dora: Bool) throws {
        methodName = config.component
        rank = try config.int("r")
        alpha = try config.float("lora_alpha")
        dropout = try config.float("lora_dropout")
        targets = try TargetModules(try config.strings("target_modules"), owner: config.component)
        useRSLoRA = try config.bool("use_rslora")
        initialization = try config.string("init_lora_weights")
        pissaIterations = try config.int("pissa_niter")
        let ratio = try config.float("loraplus_lr_ratio")
        loraplusRatio = ratio == 1 ? nil : ratio
        seed = UInt64(try config.int("seed"))
        useDoRA = dora
    }

    /// What `lora` and `dora` read from a PEFT `LORA` config (`use_dora` tells them apart).
    /// Per-module ranks, layer subsets, trained biases and transposed weights have no Temper
    /// equivalent: errors naming the field.
    static func settings(from config: PEFTAdapterConfig, dora: Bool) throws -> [(key: String, value: RawParameterValue)]? {
        try config.rejectSet(["rank_pattern", "alpha_pattern", "layers_to_transform", "modules_to_save", "bias", "lora_bias", "fan_in_fan_out"])
        guard (config.fields["use_dora"] == .bool(true)) == dora else { return nil }
        return config.settings(["r", "lora_alpha", "lora_dropout", "target_modules", "use_rslora"])
    }

    /// `lora_alpha / r`, or `lora_alpha / √r` with rsLoRA.
    var scaling: Float { useRSLoRA ? alpha / Float(rank).squareRoot() : alpha / Float(rank) }

    /// Installs an adapter on each targeted layer, freezes the base model and reports the counts.
    public func apply(to model: any AdaptableModel) throws -> ParameterCount {
        guard installed.isEmpty else { throw SpecError("\(methodName): already applied to a model") }
        let layers = try targets.select(from: model, owner: methodName)
        for layer in layers where layer.adapter != nil {
            throw SpecError("\(methodName): \(layer.name) already has an adapter")
        }
        for layer in layers where rank > min(layer.inFeatures, layer.outFeatures) {
            throw SpecError("\(methodName): r = \(rank) exceeds the smaller side of \(layer.name) (\(layer.outFeatures)×\(layer.inFeatures))")
        }
        // DoRA reads the whole weight at every forward (its row norms), and PiSSA rewrites it: on a
        // block-quantized layer both would hold a decoded float copy, which is what QLoRA avoids.
        if useDoRA || initialization == "pissa", let q = layers.first(where: \.isQuantized) {
            throw SpecError("\(methodName): \(useDoRA ? "DoRA" : "init_lora_weights=pissa") needs the float weight, and \(q.name) is held in " +
                            "\(q.quantizedWeight?.format.rawValue ?? "") blocks; use lora (kaiming or gaussian init) or ia3 on a quantized model, " +
                            "or load it in float32 (without --keep-quantized / --load_in)")
        }
        freezeBase(model)
        var rng = PhiloxRNG(seed: seed)
        for layer in layers {
            let (a, b) = try initialFactors(layer, rng: &rng)
            var magnitude: Tensor?
            if useDoRA {
                // At B = 0 the adapted weight is W, so m = ‖W‖_row makes the output start unchanged.
                let probe = LoRAAdapter(module: layer.name, a: a, b: b, magnitude: nil, scaling: scaling, dropout: 0)
                magnitude = trainableLeaf([layer.outFeatures], probe.adaptedRowNorms(layer.weight), name: "\(layer.name).lora_magnitude_vector")
            }
            let adapter = LoRAAdapter(module: layer.name, a: a, b: b, magnitude: magnitude, scaling: scaling, dropout: dropout)
            layer.adapter = adapter
            installed.append((layer, adapter))
        }
        let added = installed.reduce(0) { $0 + $1.adapter.parameters.reduce(0) { $0 + $1.tensor.count } }
        return ParameterCount(trainable: added, total: baseParameterCount(model) + added)
    }

    private func initialFactors(_ layer: Linear, rng: inout PhiloxRNG) throws -> (Tensor, Tensor) {
        let inF = layer.inFeatures, outF = layer.outFeatures, r = rank
        let aName = "\(layer.name).lora_A.weight", bName = "\(layer.name).lora_B.weight"
        switch initialization {
        case "pissa":
            return try pissaFactors(layer, aName: aName, bName: bName)
        case "gaussian":
            let std = 1 / Float(r)
            return (trainableLeaf([r, inF], (0..<(r * inF)).map { _ in rng.nextNormal() * std }, name: aName),
                    trainableLeaf([outF, r], [Float](repeating: 0, count: outF * r), name: bName))
        default:
            // kaiming_uniform_(a=√5) on a [r, in] matrix: gain √(2/(1+5)), bound gain·√(3/in) = 1/√in.
            let bound = 1 / Float(inF).squareRoot()
            return (trainableLeaf([r, inF], (0..<(r * inF)).map { _ in (2 * rng.nextUniform() - 1) * bound }, name: aName),
                    trainableLeaf([outF, r], [Float](repeating: 0, count: outF * r), name: bName))
        }
    }

    /// PiSSA (Meng et al. 2024): with W ≈ U·S·Vᵀ over the top r triplets, A = √(S/s)·Vᵀ and
    /// B = U·√(S/s), so s·B·A is W's best rank-r part; the frozen weight becomes W − s·B·A.
    private func pissaFactors(_ layer: Linear, aName: String, bName: String) throws -> (Tensor, Tensor) {
        let inF = layer.inFeatures, outF = layer.outFeatures, r = rank
        let w = layer.weight.scalars.map(Double.init)
        let svd = LowRankSVD(w, rows: outF, cols: inF, rank: r, powerIterations: pissaIterations,
                             seed: seed &+ UInt64(truncatingIfNeeded: layer.name.hashValueStable))
        let s = Double(scaling)
        var a = [Float](repeating: 0, count: r * inF), b = [Float](repeating: 0, count: outF * r)
        for k in 0..<r {
            let root = (svd.s[k] / s).squareRoot()
            for j in 0..<inF { a[k * inF + j] = Float(root * svd.vt[k * inF + j]) }
            for i in 0..<outF { b[i * r + k] = Float(root * svd.u[i * r + k]) }
        }
        // The residual is taken against the rounded Float factors, so W_res + s·B·A equals W up to
        // one rounding of each element, and the forward pass starts where the base model was.
        var residual = w
        for i in 0..<outF {
            for j in 0..<inF {
                var acc = 0.0
                for k in 0..<r { acc += Double(b[i * r + k]) * Double(a[k * inF + j]) }
                residual[i * inF + j] -= s * acc
            }
        }
        let frozen = Tensor(shape: [outF, inF], scalars: residual.map(Float.init))
        frozen.name = layer.weight.name
        layer.weight = frozen
        let at = trainableLeaf([r, inF], a, name: aName), bt = trainableLeaf([outF, r], b, name: bName)
        pissaInitial[layer.name] = (at.copy(), bt.copy())
        return (at, bt)
    }

    /// A, B (and magnitudes) in one group, or with LoRA+ A's and B's in two with B at `loraplus_lr_ratio`× the rate.
    public func trainableGroups() -> [ParameterGroup] {
        let params = installed.flatMap(\.adapter.parameters)
        guard let ratio = loraplusRatio else { return [ParameterGroup(name: methodName, parameters: params)] }
        // As PEFT's LoRA+ optimizer: B matrices and vectors (DoRA magnitudes) take the higher rate.
        let isB = { (p: NamedParameter) in p.name.hasSuffix(".lora_B.weight") || p.tensor.rank == 1 }
        return [ParameterGroup(name: "\(methodName).A", parameters: params.filter { !isB($0) }),
                ParameterGroup(name: "\(methodName).B", parameters: params.filter(isB), learningRateScale: ratio)]
    }

    /// Replaces each adapted weight by its merged equivalent and removes the adapters; the original
    /// weight tensors are kept so `unmerge` restores them bit for bit.
    public func merge(into model: any AdaptableModel) throws {
        guard !installed.isEmpty else { throw SpecError("\(methodName): merge before apply") }
        guard premerge.isEmpty else { throw SpecError("\(methodName): already merged") }
        for (layer, adapter) in installed {
            guard layer.adapter === adapter else { throw SpecError("\(methodName): \(layer.name) no longer carries this method's adapter") }
        }
        for (layer, adapter) in installed {
            let merged = adapter.mergedWeight(layer.weight)
            merged.name = layer.weight.name
            premerge.append((layer, adapter, layer.frozenWeight))
            layer.weight = merged
            layer.adapter = nil
        }
    }

    /// Puts back the original weights and the adapters.
    public func unmerge(from model: any AdaptableModel) throws {
        guard !premerge.isEmpty else { throw SpecError("\(methodName): unmerge without a merge") }
        for (layer, adapter, weight) in premerge {
            layer.restore(weight)
            layer.adapter = adapter
        }
        premerge = []
    }

    /// PEFT's LORA layout (`lora_A.weight`, `lora_B.weight`, DoRA's `lora_magnitude_vector`); a
    /// PiSSA adapter is rewritten relative to the original weights, as a rank-2r LoRA.
    public func export() throws -> AdapterExport {
        guard !installed.isEmpty else { throw SpecError("\(methodName): export before apply") }
        var tensors: [String: Tensor] = [:]
        var exportedRank = rank, exportedAlpha = alpha
        for (layer, adapter) in installed {
            var a = adapter.a.detached(), b = adapter.b.detached()
            if let initial = pissaInitial[layer.name] {
                // Relative to the original W the update is s·(B·A − B₀·A₀) = s·[B, −B₀]·[A; A₀]:
                // a rank-2r LoRA whose alpha keeps s unchanged (PEFT converts PiSSA the same way).
                a = Tensor.concat([a, initial.a], axis: 0)
                b = Tensor.concat([b, GradMode.withNoGrad { -initial.b }], axis: 1)
            }
            tensors[AdapterExport.peftKey(module: layer.name, tensor: "lora_A.weight")] = a.copy()
            tensors[AdapterExport.peftKey(module: layer.name, tensor: "lora_B.weight")] = b.copy()
            if let m = adapter.magnitude { tensors[AdapterExport.peftKey(module: layer.name, tensor: "lora_magnitude_vector")] = m.copy() }
        }
        if !pissaInitial.isEmpty {
            exportedRank = 2 * rank
            exportedAlpha = useRSLoRA ? alpha * Float(2).squareRoot() : 2 * alpha
        }
        let modules = Set(installed.map { moduleType($0.layer.name) }).sorted()
        let config: [String: ColumnValue] = [
            "peft_type": .string("LORA"),
            "task_type": .string("CAUSAL_LM"),
            "base_model_name_or_path": .null,
            "r": .number(Double(exportedRank)),
            "lora_alpha": .number(Double(exportedAlpha)),
            "lora_dropout": .number(Double(dropout)),
            "target_modules": .array(modules.map(ColumnValue.string)),
            "use_rslora": .bool(useRSLoRA),
            "use_dora": .bool(useDoRA),
            "init_lora_weights": .bool(true),
            "bias": .string("none"),
            "fan_in_fan_out": .bool(false),
            "inference_mode": .bool(true),
            "modules_to_save": .null,
            "rank_pattern": .object([:]),
            "alpha_pattern": .object([:]),
        ]
        return AdapterExport(config: config, tensors: tensors)
    }

    /// Copies saved PEFT tensors into the installed adapters.
    public func load(_ adapter: AdapterExport) throws {
        guard !installed.isEmpty else { throw SpecError("\(methodName): load before apply") }
        guard pissaInitial.isEmpty else { throw SpecError("\(methodName): load into a PiSSA-initialised adapter; use init_lora_weights=kaiming") }
        var saved = SavedAdapterTensors(adapter, owner: methodName)
        for (layer, a) in installed {
            try saved.copy(AdapterExport.peftKey(module: layer.name, tensor: "lora_A.weight"), into: a.a)
            try saved.copy(AdapterExport.peftKey(module: layer.name, tensor: "lora_B.weight"), into: a.b)
            if let m = a.magnitude {
                try saved.copy(AdapterExport.peftKey(module: layer.name, tensor: "lora_magnitude_vector"), into: m)
            }
        }
        try saved.finish()
    }
}

extension String {
    /// FNV-1a of the UTF-8 bytes: a per-module seed offset that, unlike `hashValue`, is the same in
    /// every process.
    var hashValueStable: UInt64 {
        utf8.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}

/// LoRA: a trainable low-rank update on each targeted linear layer.
public final class LoRA: LoRAFamily, LoadablePEFTMethod {
    /// Registered name.
    public static let name = "lora"
    /// One-line summary for `temper plugins`.
    public static let summary = "LoRA low-rank adapters (rsLoRA, kaiming/gaussian/PiSSA init, LoRA+), PEFT-compatible"
    /// Settings, with PEFT's names and defaults.
    public static let parameters = LoRAFamily.parameters(dora: false)
    /// PEFT's LoRA adapters without `use_dora`.
    public static let peftTypes = ["LORA"]
    /// A LORA config's settings, unless it is DoRA's.
    public static func settings(from config: PEFTAdapterConfig) throws -> [(key: String, value: RawParameterValue)]? {
        try LoRAFamily.settings(from: config, dora: false)
    }
    /// Reads the settings.
    public required init(config: ComponentConfig) throws { try super.init(config: config, dora: false) }
}

/// DoRA: LoRA with the adapted weight's row norms replaced by a trainable magnitude.
public final class DoRA: LoRAFamily, LoadablePEFTMethod {
    /// Registered name.
    public static let name = "dora"
    /// One-line summary for `temper plugins`.
    public static let summary = "DoRA weight-decomposed low-rank adapters (magnitude × direction), PEFT-compatible"
    /// Settings, as LoRA's (PiSSA init excepted).
    public static let parameters = LoRAFamily.parameters(dora: true)
    /// PEFT's LoRA adapters with `use_dora: true`.
    public static let peftTypes = ["LORA"]
    /// A LORA config's settings when it has `use_dora: true`.
    public static func settings(from config: PEFTAdapterConfig) throws -> [(key: String, value: RawParameterValue)]? {
        try LoRAFamily.settings(from: config, dora: true)
    }
    /// Reads the settings.
    public required init(config: ComponentConfig) throws { try super.init(config: config, dora: true) }
}
