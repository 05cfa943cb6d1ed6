import TemperTensor

/// A trainable tensor with the name it is saved under (Hugging Face module path where there is one,
/// e.g. `model.layers.0.self_attn.q_proj.lora_A.weight`).
public struct NamedParameter {
    /// Stable name; optimizer state and checkpoints are keyed by it.
    public var name: String
    /// The parameter itself (a leaf with `requiresGrad`); updated in place.
    public var tensor: Tensor

    /// Pairs a name with a tensor.
    public init(name: String, tensor: Tensor) {
        self.name = name
        self.tensor = tensor
    }
}
