/// A model as PEFT methods see it: its linear layers (each a TemperModels `Linear` carrying its
/// Hugging Face module name, e.g. `model.layers.0.self_attn.q_proj`, and an optional
/// `LinearAdapter` slot) and every base parameter by full name.
///
/// Arrays rather than dictionaries: adapters are created in a fixed order, so a seeded
/// initialisation gives the same weights every run.
public protocol AdaptableModel: AnyObject {
    /// Linear layers that PEFT may target, in a fixed order.
    var linearLayers: [Linear] { get }
    /// Every parameter of the base model (embeddings, norms, weights, biases), by full name.
    var namedParameters: [NamedParameter] { get }
}

extension LlamaModel: AdaptableModel {}

extension LlamaModel: TrainableLanguageModel {
    public func logits(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
        try forward(inputIDs, attentionMask: attentionMask.map(Self.int32Mask))
    }

    public func hiddenStates(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
        try hiddenStates(inputIDs, attentionMask: attentionMask.map(Self.int32Mask))
    }

    public func logits(hiddenStates: Tensor) -> Tensor { lmHead(hiddenStates) }

    /// Objectives pass float masks (the batch's); the model takes int32. Packed rows' segment
    /// numbers (1, 2, 3, ...; `BatchCollator`) pass through; any other non-zero value means 1.
    static func int32Mask(_ m: Tensor) -> Tensor {
        m.dtype == .int32 ? m : Tensor(shape: m.shape, int32: m.scalars.map { v in
            v == 0 ? 0 : v >= 1 && v < 65_536 && v == v.rounded() ? Int32(v) : 1
        })
    }
}

/// The base model under PEFT as a reference policy: every call runs with the adapters switched off
/// (`LlamaModel.withAdaptersDisabled`), without gradients and in eval mode — the same weights as
/// the policy's, no second copy.
public final class AdapterDisabledReference: TrainableLanguageModel {
    /// The policy whose base is the reference.
    public let model: LlamaModel

    /// The reference of `model`.
    public init(_ model: LlamaModel) { self.model = model }

    public func logits(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
        try model.withAdaptersDisabled { try withNoGrad { try withEvalMode { try model.logits(inputIDs: inputIDs, attentionMask: attentionMask) } } }
    }

    public func hiddenStates(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
        try model.withAdaptersDisabled { try withNoGrad { try withEvalMode { try model.hiddenStates(inputIDs: inputIDs, attentionMask: attentionMask) } } }
    }

    public func logits(hiddenStates: Tensor) -> Tensor { model.withAdaptersDisabled { withNoGrad { model.logits(hiddenStates: hiddenStates) } } }
}
