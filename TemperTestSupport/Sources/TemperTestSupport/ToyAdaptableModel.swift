import TemperCore

/// A model PEFT methods can adapt without a transformer: a chain of `Linear` layers with Hugging
/// Face module names, weights and biases drawn from a seeded normal distribution.
public final class ToyAdaptableModel: AdaptableModel {
    /// An MLP block as in a Llama layer: `up_proj` (3 → 4) then `down_proj` (4 → 3).
    public static let mlp: [(name: String, outFeatures: Int, inFeatures: Int)] = [
        ("model.layers.0.mlp.up_proj", 4, 3), ("model.layers.0.mlp.down_proj", 3, 4),
    ]

    /// The layers, in the order given and applied.
    public let linearLayers: [Linear]

    /// Layers named and shaped as given (each `inFeatures` must be the previous `outFeatures`
    /// for `forward`), with biases unless `bias` is false; values N(0, std²) from `seed`.
    public init(layers: [(name: String, outFeatures: Int, inFeatures: Int)] = ToyAdaptableModel.mlp,
                bias: Bool = true, seed: UInt64 = 1, std: Float = 0.5) {
        var rng = PhiloxRNG(seed: seed)
        linearLayers = layers.map { layer in
            Linear(name: layer.name, weight: Tensor.randn([layer.outFeatures, layer.inFeatures], std: std, rng: &rng),
                   bias: bias ? Tensor.randn([layer.outFeatures], std: std, rng: &rng) : nil)
        }
    }

    /// `<layer>.weight` and `<layer>.bias` of every layer, as a Hugging Face state dict names them.
    public var namedParameters: [NamedParameter] {
        linearLayers.flatMap { layer in
            [NamedParameter(name: layer.name + ".weight", tensor: layer.weight)]
                + (layer.bias.map { [NamedParameter(name: layer.name + ".bias", tensor: $0)] } ?? [])
        }
    }

    /// `x` (`[..., inFeatures]` of the first layer) through every layer in turn, adapters included.
    public func forward(_ x: Tensor) -> Tensor {
        linearLayers.reduce(x) { h, layer in layer(h) }
    }
}
