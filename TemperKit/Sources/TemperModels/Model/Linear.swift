import TemperTensor

/// Something that changes how one linear layer maps its input: a LoRA or DoRA update, an (IA)³
/// scale. PEFT methods install one per targeted layer; the frozen base weight stays as it was.
public protocol LinearAdapter: AnyObject {
    /// The layer's output for `x` (`[..., in]` → `[..., out]`). Call `layer.baseForward(x)` for the
    /// frozen path and combine with the adapter's own trainable parameters.
    func forward(_ x: Tensor, layer: Linear) -> Tensor
    /// The adapter's trainable parameters, named relative to the layer (`lora_A.weight`, ...).
    var parameters: [NamedParameter] { get }
}

/// A fully connected layer addressable by its Hugging Face module name
/// (`model.layers.3.self_attn.q_proj`), so PEFT methods and `target_modules` find it by name.
public final class Linear {
    /// The Hugging Face module name.
    public let name: String
    /// Weight `[out, in]` (PyTorch layout).
    public var weight: Tensor
    /// Optional bias `[out]`.
    public var bias: Tensor?
    /// An adapter that replaces the plain forward (nil: `x · Wᵀ + b`).
    public var adapter: LinearAdapter?

    /// A layer with the given parameters.
    public init(name: String, weight: Tensor, bias: Tensor? = nil) {
        precondition(weight.rank == 2, "\(name): weight must be [out, in], got \(weight.shape)")
        self.name = name
        self.weight = weight
        self.bias = bias
    }

    /// Input width.
    public var inFeatures: Int { weight.shape[1] }
    /// Output width.
    public var outFeatures: Int { weight.shape[0] }

    /// The output, through the adapter when one is installed.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let adapter { return adapter.forward(x, layer: self) }
        return baseForward(x)
    }

    /// `x · Wᵀ + b` with the layer's own weights, ignoring any adapter.
    public func baseForward(_ x: Tensor) -> Tensor {
        x.linear(weight, bias: bias)
    }
}
