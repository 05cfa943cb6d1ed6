import TemperCore

/// BitFit (Ben Zaken et al. 2022): only the bias terms train. Llama-family checkpoints have biases
/// only with `attention_bias` (Qwen2 has them on q/k/v), so a model without any is an error rather
/// than a run that trains nothing.
public final class BitFit: PEFTMethod {
    /// Registered name.
    public static let name = "bitfit"
    /// One-line summary for `temper plugins`.
    public static let summary = "BitFit: train only the bias terms"
    /// No settings.
    public static let parameters: [ParameterSpec] = []

    private var biases: [NamedParameter] = []

    /// Takes no settings.
    public init(config: ComponentConfig) throws {}

    /// Freezes everything but the biases.
    public func apply(to model: any AdaptableModel) throws -> ParameterCount {
        let all = model.namedParameters
        let found = all.filter { $0.name.hasSuffix(".bias") }
        guard !found.isEmpty else {
            throw SpecError("bitfit: the model has no bias parameters to train (Llama checkpoints have them only with attention_bias=true); choose another PEFT method")
        }
        freezeBase(model)
        for p in found { p.tensor.requiresGrad = true }
        biases = found
        return ParameterCount(trainable: found.reduce(0) { $0 + $1.tensor.count }, total: baseParameterCount(model))
    }

    /// The biases, without weight decay.
    public func trainableGroups() -> [ParameterGroup] {
        [ParameterGroup(name: "bitfit", parameters: biases, weightDecay: 0)]
    }

    /// Biases are trained in place: nothing to merge.
    public func merge(into model: any AdaptableModel) throws {
        throw SpecError("bitfit: the biases are trained in place; there is no adapter to merge")
    }

    /// Nothing to unmerge.
    public func unmerge(from model: any AdaptableModel) throws {
        throw SpecError("bitfit: there is no adapter to unmerge")
    }

    /// PEFT has no BitFit adapter type.
    public func export() throws -> AdapterExport {
        throw SpecError("bitfit: PEFT has no BitFit adapter format; save the model's weights (the biases changed in place)")
    }
}
