import TemperCore

/// Full fine-tuning: every base parameter trains. There is no adapter, so nothing to merge or
/// export in PEFT's format; the trainer saves the model's weights instead.
public final class FullFineTuning: PEFTMethod {
    /// Registered name.
    public static let name = "full"
    /// One-line summary for `temper plugins`.
    public static let summary = "full fine-tuning: every parameter of the model is trained"
    /// No settings.
    public static let parameters: [ParameterSpec] = []

    private var trainable: [NamedParameter] = []

    /// Takes no settings.
    public init(config: ComponentConfig) throws {}

    /// Marks every parameter trainable.
    public func apply(to model: any AdaptableModel) throws -> ParameterCount {
        // A block-quantized weight is frozen by construction: its float view is a decoded copy the
        // forward never reads, so training it would silently change nothing.
        if let q = (model.linearLayers + ((model as? LlamaModel).map { [$0.lmHead] } ?? [])).first(where: \.isQuantized) {
            throw SpecError("full: cannot fully fine-tune a quantized model (\(q.name) is held in \(q.quantizedWeight?.format.rawValue ?? "block") blocks); train an adapter (lora or ia3) on it instead, or load the model in float32 (without --keep-quantized / --load_in)")
        }
        trainable = model.namedParameters
        for p in trainable { p.tensor.requiresGrad = true }
        let n = trainable.reduce(0) { $0 + $1.tensor.count }
        return ParameterCount(trainable: n, total: n)
    }

    /// All parameters; biases and norm scales without weight decay.
    public func trainableGroups() -> [ParameterGroup] { decayGroups(trainable) }

    /// Nothing to merge: the weights are trained in place.
    public func merge(into model: any AdaptableModel) throws {
        throw SpecError("full: there is no adapter to merge; the model's own weights were trained")
    }

    /// Nothing to unmerge.
    public func unmerge(from model: any AdaptableModel) throws {
        throw SpecError("full: there is no adapter to unmerge")
    }

    /// Full fine-tuning has no PEFT adapter format.
    public func export() throws -> AdapterExport {
        throw SpecError("full: fine-tuning the whole model produces a model, not a PEFT adapter; save the model's weights")
    }
}
