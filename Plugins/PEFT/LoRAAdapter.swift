import TemperCore

/// A low-rank update on one linear layer (Hu et al. 2021): `y = W·x + b + s·B·A·dropout(x)` with
/// `A` `[r, in]`, `B` `[out, r]` and scaling `s` (`alpha / r`, or `alpha / √r` with rsLoRA).
///
/// With a `magnitude` it is DoRA (Liu et al. 2024): the adapted weight `W' = W + s·B·A` is split
/// into direction and length, `y = m ⊙ (W'·x) / ‖W'‖_row + b`, where the row norms are treated as
/// constants in the backward pass (as in the paper and PEFT), so gradients reach `m`, `A` and `B`
/// but not through the norm.
final class LoRAAdapter: LinearAdapter {
    /// The adapted layer's module name.
    let module: String
    /// Down projection `[r, in]`.
    let a: Tensor
    /// Up projection `[out, r]`.
    let b: Tensor
    /// DoRA's per-output magnitude `[out]` (nil for plain LoRA).
    let magnitude: Tensor?
    /// Factor on `B·A`.
    let scaling: Float
    /// Dropout probability on the adapter's input, applied only in training mode while gradients are
    /// recorded (`TrainingMode.isDropoutActive`); evaluation, generation and the log-prob passes of
    /// RL (`withEvalMode`) see no dropout.
    let dropout: Float
    /// Keeps this adapter's masks apart from every other adapter's: each mask's stream is a function
    /// of the trainer's dropout key (seed, step, micro-batch), the draw number and this salt, so a
    /// resumed run and a checkpointed layer's recompute draw exactly the same masks.
    private let dropoutSalt: UInt64

    init(module: String, a: Tensor, b: Tensor, magnitude: Tensor?, scaling: Float, dropout: Float) {
        self.module = module
        self.a = a
        self.b = b
        self.magnitude = magnitude
        self.scaling = scaling
        self.dropout = dropout
        dropoutSalt = TrainingMode.stableHash("\(module).lora_A.weight")
    }

    var parameters: [NamedParameter] {
        var out = [NamedParameter(name: "\(module).lora_A.weight", tensor: a),
                   NamedParameter(name: "\(module).lora_B.weight", tensor: b)]
        if let magnitude { out.append(NamedParameter(name: "\(module).lora_magnitude_vector", tensor: magnitude)) }
        return out
    }

    /// A, B and s while the forward is the plain sum `W·x + b + s·B·A·x`: not for DoRA, nor while
    /// dropout applies (what `forward` checks).
    var lowRankUpdate: LowRankUpdate? {
        guard magnitude == nil, !(dropout > 0 && TrainingMode.isDropoutActive) else { return nil }
        return LowRankUpdate(a: a, b: b, scaling: scaling)
    }

    func forward(_ x: Tensor, layer: Linear) -> Tensor {
        let dropping = dropout > 0 && TrainingMode.isDropoutActive
        var xd = x
        if dropping {
            var rng = PhiloxRNG(seed: TrainingMode.nextDropoutSeed(salt: dropoutSalt))
            xd = x.dropout(p: dropout, rng: &rng)
        }
        // Scaling the r-wide intermediate is cheaper than scaling the out-wide result.
        let update = (xd.linear(a) * scaling).linear(b)
        guard let magnitude else { return layer.baseForward(x) + update }
        let scale = magnitude * GradMode.withNoGrad { Tensor(shape: [layer.outFeatures], scalars: adaptedRowNorms(layer.weight).map { 1 / $0 }) }
        if dropping {
            // PEFT's form with dropout: the frozen path sees x, the magnitude correction sees dropout(x).
            return layer.baseForward(x) + (scale - 1) * xd.linear(layer.weight) + scale * update
        }
        let y = (x.linear(layer.weight) + update) * scale
        return layer.bias.map { y + $0 } ?? y
    }

    /// `s·B·A` as a new `[out, in]` tensor, outside the graph.
    func delta() -> Tensor {
        GradMode.withNoGrad { b.detached().matmul(a.detached()) * scaling }
    }

    /// ‖W + s·B·A‖ of each output row, in Double for the sums; what DoRA divides by.
    func adaptedRowNorms(_ weight: Tensor) -> [Float] {
        let d = delta()
        let w = weight.contiguous()
        let rows = weight.shape[0], cols = weight.shape[1]
        let pw = w.floatPointer, pd = d.floatPointer
        return withExtendedLifetime((w, d)) {
            (0..<rows).map { i in
                var acc = 0.0
                for j in 0..<cols {
                    let v = Double(pw[i * cols + j] + pd[i * cols + j])
                    acc += v * v
                }
                return Float(acc.squareRoot())
            }
        }
    }

    /// The weight this adapter is equivalent to: `W + s·B·A`, or DoRA's `m ⊙ (W + s·B·A) / ‖·‖_row`.
    func mergedWeight(_ weight: Tensor) -> Tensor {
        let adapted = GradMode.withNoGrad { weight.detached() + delta() }
        guard let magnitude else { return adapted }
        let norms = adaptedRowNorms(weight)
        let m = magnitude.scalars
        let cols = weight.shape[1]
        adapted.withUnsafeMutableBufferPointer { p in
            for i in 0..<norms.count {
                let f = m[i] / norms[i]
                for j in 0..<cols { p[i * cols + j] *= f }
            }
        }
        return adapted
    }
}
