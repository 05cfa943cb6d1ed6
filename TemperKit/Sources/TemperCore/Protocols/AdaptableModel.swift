/// A change to a linear layer's output, installed by a PEFT method (LoRA, DoRA, (IA)³).
///
/// The model computes `y = base(x)` and then `adapter.output(input: x, base: y)`, so the frozen
/// weight is never copied.
public protocol LinearAdapter: AnyObject {
    /// The adapted output for input `x` (`[..., in]`) given the frozen layer's output `base` (`[..., out]`).
    func output(input x: Tensor, base: Tensor) -> Tensor
    /// The adapter's own trainable tensors, named relative to the layer (`lora_A.weight`).
    var parameters: [NamedParameter] { get }
}

/// One linear layer of a model, addressable by its Hugging Face module name.
public protocol AdaptableLinear: AnyObject {
    /// Weight `[out, in]`.
    var weight: Tensor { get set }
    /// Bias `[out]`, if the layer has one.
    var bias: Tensor? { get set }
    /// The installed adapter, if any.
    var adapter: (any LinearAdapter)? { get set }
}

/// A model as PEFT methods see it: its linear layers by module name
/// (`model.layers.0.self_attn.q_proj`) and every parameter by full name.
public protocol AdaptableModel: AnyObject {
    /// Linear layers by Hugging Face module name.
    var linearLayers: [String: any AdaptableLinear] { get }
    /// Every parameter of the base model (embeddings, norms, weights, biases), by full name.
    var namedParameters: [NamedParameter] { get }
}
