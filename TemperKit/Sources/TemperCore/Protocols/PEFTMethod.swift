/// Trainable against total parameter counts, as PEFT's `print_trainable_parameters`.
public struct ParameterCount: Equatable, Sendable, CustomStringConvertible {
    /// Elements that receive gradients.
    public var trainable: Int
    /// Elements of the base model plus any adapter.
    public var total: Int

    /// Counts from numbers.
    public init(trainable: Int, total: Int) {
        self.trainable = trainable
        self.total = total
    }

    public var description: String {
        let pct = total == 0 ? 0 : 100 * Double(trainable) / Double(total)
        return "trainable params: \(trainable) || all params: \(total) || trainable%: \(String(format: "%.4f", pct))"
    }
}

/// A saved adapter: PEFT's `adapter_config.json` fields and its tensors under PEFT key names.
public struct AdapterExport {
    /// `adapter_config.json` content.
    public var config: [String: ColumnValue]
    /// Tensors by PEFT key (`base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`).
    public var tensors: [String: Tensor]

    /// An export from parts.
    public init(config: [String: ColumnValue], tensors: [String: Tensor]) {
        self.config = config
        self.tensors = tensors
    }
}

/// Decides what is trainable and how a frozen model is adapted (full, LoRA, DoRA, (IA)³, BitFit, ...).
public protocol PEFTMethod: Component, AnyObject {
    /// Installs the method on `model` (adapters, `requiresGrad` flags) and reports the counts.
    func apply(to model: any AdaptableModel) throws -> ParameterCount
    /// What the optimizer updates, in groups (LoRA+ puts B matrices in their own group).
    func trainableGroups() -> [ParameterGroup]
    /// Folds the adapters into the base weights (outputs unchanged); throws if the method cannot.
    func merge(into model: any AdaptableModel) throws
    /// Undoes `merge`.
    func unmerge(from model: any AdaptableModel) throws
    /// The adapter in PEFT's on-disk format.
    func export() throws -> AdapterExport
}

extension PEFTMethod {
    public static var kind: ComponentKind { .peft }
}
