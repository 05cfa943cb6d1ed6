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
        let mask = attentionMask.map { m in
            m.dtype == .int32 ? m : Tensor(shape: m.shape, int32: m.scalars.map { $0 != 0 ? 1 : 0 })
        }
        return try forward(inputIDs, attentionMask: mask)
    }
}
