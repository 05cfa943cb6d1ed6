import Foundation

/// Loading a PEFT adapter folder onto a model: the config picks and configures the Temper method,
/// which is applied to the model and then given the saved tensors.
public enum PEFTAdapterLoader {
    /// Reads the adapter in `directory`, builds the matching method from `registry` (the PEFT plugin
    /// must be loaded), installs it on `model` and loads its weights.
    public static func load(from directory: URL, into model: any AdaptableModel,
                            registry: ComponentRegistry = .shared) throws -> any PEFTMethod {
        let adapter = try PEFTAdapterFiles.read(from: directory)
        let spec = try PEFTAdapterConfig.spec(for: adapter.config, source: directory.appendingPathComponent(PEFTAdapterFiles.configFileName).path,
                                              registry: registry)
        let method = try registry.make(spec, kind: .peft, as: (any PEFTMethod).self)
        guard let loadable = method as? any LoadablePEFTMethod else {
            throw SpecError("PEFT method '\(spec.name)' cannot load saved adapter weights")
        }
        _ = try loadable.apply(to: model)
        try loadable.load(adapter)
        return loadable
    }
}

extension PEFTAdapterConfig {
    /// The Temper spec that rebuilds the adapter a PEFT config describes, found through the
    /// `LoadablePEFTMethod`s in `registry`: the one whose `peftTypes` has the config's `peft_type`
    /// and whose `settings(from:)` claims it. An unknown type is an error naming the file, the type
    /// and the types the loaded plugins read.
    public static func spec(for fields: [String: ColumnValue], source: String,
                            registry: ComponentRegistry = .shared) throws -> ComponentSpec {
        let config = PEFTAdapterConfig(fields: fields, source: source)
        let type = try config.peftType()
        let readers = registry.all(kind: .peft).compactMap { d in
            (d.componentType as? any LoadablePEFTMethod.Type).map { (name: d.name, method: $0) }
        }
        let candidates = readers.filter { $0.method.peftTypes.contains(type) }
        guard !candidates.isEmpty else {
            let known = Set(readers.flatMap { $0.method.peftTypes }).sorted()
            throw SpecError("\(source): peft_type '\(type)' is not read by any loaded PEFT plugin (they read "
                            + (known.isEmpty ? "none: is the PEFT plugin loaded?" : known.joined(separator: ", ")) + ")")
        }
        if let n = fields["num_transformer_submodules"], n != .number(1), n != .null {
            throw SpecError("\(source): num_transformer_submodules = \(n.json); Temper supports decoder-only models (1)")
        }
        var claims: [ComponentSpec] = []
        for c in candidates {
            if let settings = try c.method.settings(from: config) { claims.append(ComponentSpec(name: c.name, settings: settings)) }
        }
        guard claims.count == 1 else {
            throw SpecError("\(source): peft_type '\(type)' is claimed by "
                            + (claims.isEmpty ? "none of \(candidates.map(\.name).joined(separator: ", ")) for these settings"
                                              : "several methods (\(claims.map(\.name).joined(separator: ", ")))"))
        }
        return claims[0]
    }
}
