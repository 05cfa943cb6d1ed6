import TemperTensor

/// Something that changes how one linear layer maps its input: a LoRA or DoRA update, an (IA)³
/// scale. PEFT methods install one per targeted layer; the frozen base weight stays as it was.
public protocol LinearAdapter: AnyObject {
    /// The layer's output for `x` (`[..., in]` → `[..., out]`). Call `layer.baseForward(x)` for the
    /// frozen path and combine with the adapter's own trainable parameters.
    func forward(_ x: Tensor, layer: Linear) -> Tensor
    /// The adapter's trainable parameters, named relative to the layer (`lora_A.weight`, ...).
    var parameters: [NamedParameter] { get }
    /// `A`, `B` and `s` when `forward` is exactly `layer.baseForward(x) + ((x·Aᵀ)·s)·Bᵀ` right now,
    /// so a decode step can compute `x·Aᵀ` in the same pass as the frozen products of its layer
    /// group; nil when it is not (DoRA's magnitude, (IA)³, dropout active).
    var lowRankUpdate: LowRankUpdate? { get }
}

extension LinearAdapter {
    /// Adapters that are not a plain low-rank sum keep their own forward.
    public var lowRankUpdate: LowRankUpdate? { nil }
}

/// A low-rank update `y += ((x·Aᵀ)·s)·Bᵀ` as its parts: `a` `[r, in]`, `b` `[out, r]`, `scaling` `s`.
public struct LowRankUpdate {
    /// Down projection `[r, in]`.
    public let a: Tensor
    /// Up projection `[out, r]`.
    public let b: Tensor
    /// Factor on the r-wide intermediate.
    public let scaling: Float

    /// The update with the given parts.
    public init(a: Tensor, b: Tensor, scaling: Float) {
        self.a = a
        self.b = b
        self.scaling = scaling
    }
}

/// A fully connected layer addressable by its Hugging Face module name
/// (`model.layers.3.self_attn.q_proj`), so PEFT methods and `target_modules` find it by name.
///
/// Its frozen weight is a float32 tensor or a `QuantizedMatrix` kept in a GGUF block format (QLoRA):
/// the forward and the input gradient run on the blocks directly; `weight` then decodes a float
/// copy on each read (merging, PiSSA), and assigning a float tensor to it replaces the blocks.
public final class Linear {
    /// The Hugging Face module name.
    public let name: String
    private var denseWeight: Tensor?
    /// The frozen weight in block format, when the layer holds one instead of a float tensor.
    public private(set) var quantizedWeight: QuantizedMatrix?
    /// Optional bias `[out]`.
    public var bias: Tensor?
    /// An adapter that replaces the plain forward (nil: `x · Wᵀ + b`).
    public var adapter: LinearAdapter?

    /// A layer with the given parameters.
    public init(name: String, weight: Tensor, bias: Tensor? = nil) {
        precondition(weight.rank == 2, "\(name): weight must be [out, in], got \(weight.shape)")
        self.name = name
        denseWeight = weight
        self.bias = bias
    }

    /// A layer whose frozen weight stays in block format.
    public init(name: String, quantizedWeight: QuantizedMatrix, bias: Tensor? = nil) {
        self.name = name
        self.quantizedWeight = quantizedWeight
        self.bias = bias
    }

    /// Weight `[out, in]` (PyTorch layout) as float32: the tensor itself, or for a quantized layer a
    /// new decoded copy (named like the parameter). Setting it makes the layer a float layer.
    public var weight: Tensor {
        get {
            if let denseWeight { return denseWeight }
            let t = quantizedWeight!.dequantized()
            t.name = "\(name).weight"
            return t
        }
        set {
            denseWeight = newValue
            quantizedWeight = nil
        }
    }

    /// Whether the frozen weight is held in block format.
    public var isQuantized: Bool { quantizedWeight != nil }

    /// The frozen weight as the layer holds it — a float tensor or blocks — so a merge that writes a
    /// float weight can be undone exactly, blocks included (`restore(_:)`).
    public struct FrozenWeight {
        fileprivate let dense: Tensor?
        fileprivate let blocks: QuantizedMatrix?
    }

    /// The weight as held now (no copy, no decoding).
    public var frozenWeight: FrozenWeight { FrozenWeight(dense: denseWeight, blocks: quantizedWeight) }

    /// Puts back a weight taken with `frozenWeight`.
    public func restore(_ weight: FrozenWeight) {
        denseWeight = weight.dense
        quantizedWeight = weight.blocks
    }

    /// Replaces a float weight by its `format` encoding (`--quantize`, `--load_in`); the float
    /// tensor is released. Throws naming the layer when its rows do not split into blocks.
    public func quantize(to format: QuantFormat) throws {
        guard let denseWeight else { return }
        quantizedWeight = try QuantizedMatrix(quantizing: denseWeight, format: format, name: "\(name).weight")
        self.denseWeight = nil
    }

    /// Input width.
    public var inFeatures: Int { quantizedWeight?.columns ?? denseWeight!.shape[1] }
    /// Output width.
    public var outFeatures: Int { quantizedWeight?.rows ?? denseWeight!.shape[0] }

    /// The output, through the adapter when one is installed.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        if let adapter { return adapter.forward(x, layer: self) }
        return baseForward(x)
    }

    /// `x · Wᵀ + b` with the layer's own weights, ignoring any adapter.
    public func baseForward(_ x: Tensor) -> Tensor {
        if let quantizedWeight { return x.linear(quantizedWeight, bias: bias) }
        return x.linear(denseWeight!, bias: bias)
    }
}
