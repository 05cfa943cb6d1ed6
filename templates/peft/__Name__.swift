import TemperCore

/// __component__: trains only the bias vectors of the base model (BitFit). Replace `apply` with
/// your method: install a `LinearAdapter` on a layer of `model.linearLayers` (found by its `name`) to change its output.
public final class __Name__: PEFTMethod {
    public static let name = "__component__"
    public static let summary = "train only bias vectors (BitFit; template: edit me)"
    public static let parameters: [ParameterSpec] = [
        .string("suffix", default: ".bias", doc: "parameters whose names end with this are trained"),
    ]

    let suffix: String
    private var trained: [NamedParameter] = []

    public init(config: ComponentConfig) throws {
        suffix = try config.string("suffix")
    }

    public func apply(to model: any AdaptableModel) throws -> ParameterCount {
        let all = model.namedParameters
        trained = all.filter { $0.name.hasSuffix(suffix) }
        guard !trained.isEmpty else { throw SpecError("\(Self.name): no parameter name ends with '\(suffix)'") }
        for p in all { p.tensor.requiresGrad = p.name.hasSuffix(suffix) }
        return ParameterCount(trainable: trained.reduce(0) { $0 + $1.tensor.count }, total: all.reduce(0) { $0 + $1.tensor.count })
    }

    public func trainableGroups() -> [ParameterGroup] {
        // Biases are conventionally trained without weight decay.
        [ParameterGroup(name: "bias", parameters: trained, weightDecay: 0)]
    }

    // Biases are updated in place: the model is always "merged".
    public func merge(into model: any AdaptableModel) throws {}
    public func unmerge(from model: any AdaptableModel) throws {}

    public func export() throws -> AdapterExport {
        AdapterExport(config: ["peft_type": .string("BITFIT"), "suffix": .string(suffix)],
                      tensors: Dictionary(uniqueKeysWithValues: trained.map { ($0.name, $0.tensor.copy()) }))
    }
}
