import TemperCore

/// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the update is the
/// sign of an interpolation between momentum and gradient, so every element moves by exactly η.
///
/// c ← β₁m + (1−β₁)g; θ ← θ(1 − ηλ) − η·sign(c); m ← β₂m + (1−β₂)g.
/// Its steps are larger than Adam's, so it wants a 3–10× smaller learning rate and a larger decay.
public final class Lion: Optimizer {
    /// Registered name.
    public static let name = "lion"
    /// One-line summary for `temper plugins`.
    public static let summary = "Lion: sign of interpolated momentum, decoupled weight decay"
    /// Settings, with the paper's defaults.
    public static let parameters: [ParameterSpec] = [
        .float("lr", default: 1e-4, range: .greaterThan(0), aliases: ["learning_rate"], doc: "learning rate η (the size of every element's step)"),
        .float("beta1", default: 0.9, range: .halfOpen(0, 1), doc: "β₁: weight of the momentum in the update direction"),
        .float("beta2", default: 0.99, range: .halfOpen(0, 1), doc: "β₂: decay of the momentum average"),
        .float("weight_decay", default: 0, range: .atLeast(0), doc: "decoupled weight decay λ (θ ← θ(1 − ηλ))"),
    ]

    /// Current learning rate η (the trainer's schedule sets it before each step).
    public var learningRate: Float
    let beta1: Float
    let beta2: Float
    let weightDecay: Float
    private var momenta = ParameterStateTable(optimizer: Lion.name, slots: ["exp_avg"], countsSteps: false)

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        learningRate = try config.float("lr")
        beta1 = try config.float("beta1")
        beta2 = try config.float("beta2")
        weightDecay = try config.float("weight_decay")
    }

    /// Updates every parameter that has a gradient; momenta start at zero.
    public func step(_ groups: [ParameterGroup]) throws {
        for group in groups {
            let lr = learningRate * group.learningRateScale
            let wd = group.weightDecay ?? weightDecay
            for p in group.parameters {
                guard let target = try UpdateTarget(p, optimizer: Self.name) else { continue }
                update(target, momentum: try momenta.advance(target).tensors[0], lr: lr, shrink: 1 - lr * wd)
            }
        }
    }

    private func update(_ t: UpdateTarget, momentum: Tensor, lr: Float, shrink: Float) {
        let theta = t.parameter.floatPointer, grad = t.gradient.floatPointer, mp = momentum.floatPointer
        let b1 = beta1, b2 = beta2
        withExtendedLifetime((t, momentum)) {
            Parallel.forRanges(t.count, grain: parallelGrain) { range in
                var i = range.lowerBound
                let end = range.upperBound
                let vB1 = SIMD8<Float>(repeating: b1), vB1c = SIMD8<Float>(repeating: 1 - b1)
                let vB2 = SIMD8<Float>(repeating: b2), vB2c = SIMD8<Float>(repeating: 1 - b2)
                let vLr = SIMD8<Float>(repeating: lr), vShrink = SIMD8<Float>(repeating: shrink)
                let zero = SIMD8<Float>(repeating: 0), one = SIMD8<Float>(repeating: 1)
                while i + 8 <= end {
                    let g = load8(grad, i), m = load8(mp, i)
                    let c = vB1 * m + vB1c * g
                    // sign(c), with sign(0) = 0 as torch.sign.
                    let sign = zero.replacing(with: one, where: c .> zero).replacing(with: -one, where: c .< zero)
                    store8(load8(theta, i) * vShrink - vLr * sign, theta, i)
                    store8(vB2 * m + vB2c * g, mp, i)
                    i += 8
                }
                while i < end {
                    let g = grad[i], m = mp[i]
                    let c = b1 * m + (1 - b1) * g
                    let sign: Float = c > 0 ? 1 : (c < 0 ? -1 : 0)
                    theta[i] = theta[i] * shrink - lr * sign
                    mp[i] = b2 * m + (1 - b2) * g
                    i += 1
                }
            }
        }
    }

    /// Momenta, keyed `exp_avg.<parameter name>`.
    public func state() -> OptimizerState { momenta.state() }

    /// Restores momenta saved by `state()`.
    public func load(state: OptimizerState) throws { try momenta.load(state) }
}
