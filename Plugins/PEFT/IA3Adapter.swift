import TemperCore

/// (IA)³ on one linear layer (Liu et al. 2022): a learned vector rescales the layer's output
/// (`y = l ⊙ (W·x) + …`, attention keys and values) or, for feed-forward layers, its input
/// (`y = W·(l ⊙ x) + b`).
final class IA3Adapter: LinearAdapter {
    /// The adapted layer's module name.
    let module: String
    /// The scaling vector: `[out]`, or `[in]` for a feed-forward layer.
    let scale: Tensor
    /// Whether `scale` multiplies the input (feed-forward) rather than the output.
    let feedforward: Bool

    init(module: String, scale: Tensor, feedforward: Bool) {
        self.module = module
        self.scale = scale
        self.feedforward = feedforward
    }

    var parameters: [NamedParameter] { [NamedParameter(name: "\(module).ia3_l", tensor: scale)] }

    func forward(_ x: Tensor, layer: Linear) -> Tensor {
        // PEFT scales the whole output, bias included, for non-feed-forward layers.
        feedforward ? layer.baseForward(x * scale) : layer.baseForward(x) * scale
    }

    /// The equivalent plain layer: rows (output) or columns (input) of W scaled; an output-scaled
    /// layer's bias is scaled too.
    func mergedParameters(_ layer: Linear) -> (weight: Tensor, bias: Tensor?) {
        GradMode.withNoGrad {
            let l = scale.detached()
            if feedforward { return (layer.weight * l.reshape([1, layer.inFeatures]), layer.bias) }
            return (layer.weight * l.reshape([layer.outFeatures, 1]), layer.bias.map { $0 * l })
        }
    }
}
