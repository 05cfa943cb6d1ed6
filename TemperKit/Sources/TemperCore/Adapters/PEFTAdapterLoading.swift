import Foundation

/// A PEFT method that can take saved adapter weights: after `apply` has installed adapters of the
/// right shapes, `load` copies the tensors of an `AdapterExport` (PEFT keys) into them.
public protocol LoadablePEFTMethod: PEFTMethod {
    /// Copies `adapter.tensors` into the installed adapters; throws naming a key that is missing,
    /// mis-shaped or matches no installed adapter.
    func load(_ adapter: AdapterExport) throws
}

/// Loading a PEFT adapter folder onto a model: the config picks and configures the Temper method,
/// which is applied to the model and then given the saved tensors.
public enum PEFTAdapterLoader {
    /// Reads the adapter in `directory`, builds the matching method from `registry` (the PEFT plugin
    /// must be loaded), installs it on `model` and loads its weights.
    public static func load(from directory: URL, into model: any AdaptableModel,
                            registry: ComponentRegistry = .shared) throws -> any PEFTMethod {
        let adapter = try PEFTAdapterFiles.read(from: directory)
        let spec = try PEFTAdapterConfig.spec(for: adapter.config, source: directory.appendingPathComponent(PEFTAdapterFiles.configFileName).path)
        let method = try registry.make(spec, kind: .peft, as: (any PEFTMethod).self)
        guard let loadable = method as? any LoadablePEFTMethod else {
            throw SpecError("PEFT method '\(spec.name)' cannot load saved adapter weights")
        }
        _ = try loadable.apply(to: model)
        try loadable.load(adapter)
        return loadable
    }
}

/// The mapping between PEFT's `adapter_config.json` and Temper PEFT specs.
public enum PEFTAdapterConfig {
    /// The Temper spec that rebuilds the adapter a PEFT config describes (`lora`, `dora`, `ia3`,
    /// `prompt-tuning`, `prefix-tuning`); random initialisation, since the saved weights replace it.
    /// Settings PEFT has and Temper cannot honour (rank patterns, layer subsets, trained biases)
    /// are errors naming the field rather than silently different adapters.
    public static func spec(for config: [String: ColumnValue], source: String) throws -> ComponentSpec {
        guard case .string(let type)? = config["peft_type"] else {
            throw SpecError("\(source): missing the string field 'peft_type'")
        }
        func raw(_ key: String) -> RawParameterValue? {
            switch config[key] {
            case .string(let s)?: return .text(s)
            case .number(let d)?: return .text(ColumnValue.number(d).json)
            case .bool(let b)?: return .text(b ? "true" : "false")
            case .array(let items)?: return .list(items.map { .text($0.text) })
            default: return nil
            }
        }
        func rejectNonEmpty(_ key: String) throws {
            switch config[key] {
            case nil, .null?: return
            case .object(let o)? where o.isEmpty: return
            case .array(let a)? where a.isEmpty: return
            case .string(let s)? where s == "none": return
            case .bool(false)?: return
            default: throw SpecError("\(source): '\(key)' = \(config[key]!.json) is not supported by Temper")
            }
        }
        var settings: [(key: String, value: RawParameterValue)] = []
        func copy(_ key: String, as name: String? = nil) {
            if let v = raw(key) { settings.append((name ?? key, v)) }
        }
        let name: String
        switch type {
        case "LORA":
            for key in ["rank_pattern", "alpha_pattern", "layers_to_transform", "modules_to_save", "bias", "lora_bias", "fan_in_fan_out"] {
                try rejectNonEmpty(key)
            }
            name = config["use_dora"] == .bool(true) ? "dora" : "lora"
            copy("r"); copy("lora_alpha"); copy("lora_dropout"); copy("target_modules"); copy("use_rslora")
        case "IA3":
            for key in ["layers_to_transform", "modules_to_save", "fan_in_fan_out"] { try rejectNonEmpty(key) }
            name = "ia3"
            copy("target_modules"); copy("feedforward_modules")
        case "PROMPT_TUNING":
            name = "prompt-tuning"
            copy("num_virtual_tokens")
        case "PREFIX_TUNING":
            name = "prefix-tuning"
            copy("num_virtual_tokens")
        default:
            throw SpecError("\(source): peft_type '\(type)' is not supported (Temper loads LORA (incl. DoRA), IA3, PROMPT_TUNING and PREFIX_TUNING)")
        }
        if let n = config["num_transformer_submodules"], n != .number(1), n != .null {
            throw SpecError("\(source): num_transformer_submodules = \(n.json); Temper supports decoder-only models (1)")
        }
        return ComponentSpec(name: name, settings: settings)
    }
}
