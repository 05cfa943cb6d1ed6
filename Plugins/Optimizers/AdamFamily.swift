import Foundation
import TemperCore

/// Adam's moment estimates and update, shared by `adam` (L2 decay added to the gradient, as
/// `torch.optim.Adam`) and `adamw` (decoupled decay θ ← θ(1 − ηλ), Loshchilov & Hutter).
///
/// m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − η·(m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε).
public class AdamFamily {
    /// Current learning rate η (the trainer's schedule sets it before each step).
    public var learningRate: Float
    let beta1: Float
    let beta2: Float
    let epsilon: Float
    let weightDecay: Float
    let decoupled: Bool
    /// First and second moments with per-parameter step counts (for the bias corrections).
    private var moments: ParameterStateTable

    static func parameters(defaultDecay: Double) -> [ParameterSpec] {
        [
            .float("lr", default: 1e-3, range: .greaterThan(0), aliases: ["learning_rate"], doc: "learning rate η"),
            .float("beta1", default: 0.9, range: .halfOpen(0, 1), aliases: ["adam_beta1"], doc: "decay β₁ of the first-moment average"),
            .float("beta2", default: 0.999, range: .halfOpen(0, 1), aliases: ["adam_beta2"], doc: "decay β₂ of the second-moment average"),
            .float("eps", default: 1e-8, range: .greaterThan(0), aliases: ["adam_epsilon"], doc: "ε added to the denominator for stability"),
            .float("weight_decay", default: defaultDecay, range: .atLeast(0), doc: "weight decay λ"),
        ]
    }

    init(config: ComponentConfig, decoupled: Bool, name: String) throws {
        learningRate = try config.float("lr")
        beta1 = try config.float("beta1")
        beta2 = try config.float("beta2")
        epsilon = try config.float("eps")
        weightDecay = try config.float("weight_decay")
        self.decoupled = decoupled
        moments = ParameterStateTable(optimizer: name, slots: ["exp_avg", "exp_avg_sq"], countsSteps: true)
    }

    /// Updates every parameter that has a gradient; moments start at zero on a parameter's first step.
    public func step(_ groups: [ParameterGroup]) throws {
        for group in groups {
            let lr = learningRate * group.learningRateScale
            let wd = group.weightDecay ?? weightDecay
            for p in group.parameters {
                guard let target = try UpdateTarget(p, optimizer: moments.optimizer) else { continue }
                let state = try moments.advance(target)
                update(target, m: state.tensors[0], v: state.tensors[1], step: state.step, lr: lr, weightDecay: wd)
            }
        }
    }

    private func update(_ t: UpdateTarget, m: Tensor, v: Tensor, step: Int, lr: Float, weightDecay wd: Float) {
        let theta = t.parameter.floatPointer, grad = t.gradient.floatPointer
        let mp = m.floatPointer, vp = v.floatPointer
        let b1 = beta1, b2 = beta2, eps = epsilon
        // Bias corrections folded into two scalars: step size η/(1−β₁ᵗ) and 1/√(1−β₂ᵗ).
        let stepSize = lr / (1 - Float(Double(b1).power(step)))
        let invSqrtBC2 = 1 / Float(Double(1 - Double(b2).power(step)).squareRoot())
        let shrink: Float = decoupled ? 1 - lr * wd : 1
        let l2: Float = decoupled ? 0 : wd
        withExtendedLifetime((t, m, v)) {
            Parallel.forRanges(t.count, grain: parallelGrain) { range in
                var i = range.lowerBound
                let end = range.upperBound
                let vB1 = SIMD8<Float>(repeating: b1), vB1c = SIMD8<Float>(repeating: 1 - b1)
                let vB2 = SIMD8<Float>(repeating: b2), vB2c = SIMD8<Float>(repeating: 1 - b2)
                let vEps = SIMD8<Float>(repeating: eps), vStep = SIMD8<Float>(repeating: stepSize)
                let vInv = SIMD8<Float>(repeating: invSqrtBC2), vShrink = SIMD8<Float>(repeating: shrink)
                let vL2 = SIMD8<Float>(repeating: l2)
                while i + 8 <= end {
                    let th = load8(theta, i)
                    let g = load8(grad, i) + vL2 * th
                    let m1 = vB1 * load8(mp, i) + vB1c * g
                    let v1 = vB2 * load8(vp, i) + vB2c * g * g
                    store8(m1, mp, i)
                    store8(v1, vp, i)
                    store8(th * vShrink - vStep * m1 / (v1.squareRoot() * vInv + vEps), theta, i)
                    i += 8
                }
                while i < end {
                    let th = theta[i]
                    let g = grad[i] + l2 * th
                    let m1 = b1 * mp[i] + (1 - b1) * g
                    let v1 = b2 * vp[i] + (1 - b2) * g * g
                    mp[i] = m1
                    vp[i] = v1
                    theta[i] = th * shrink - stepSize * m1 / (v1.squareRoot() * invSqrtBC2 + eps)
                    i += 1
                }
            }
        }
    }

    /// Moments (`exp_avg.<name>`, `exp_avg_sq.<name>`) and per-parameter step counts (`step.<name>`).
    public func state() -> OptimizerState { moments.state() }

    /// Restores state saved by `state()`; every step count needs both moments.
    public func load(state: OptimizerState) throws { try moments.load(state) }
}

private extension Double {
    func power(_ n: Int) -> Double { pow(self, Double(n)) }
}

/// AdamW: Adam with weight decay decoupled from the gradient (`torch.optim.AdamW`).
public final class AdamW: AdamFamily, Optimizer {
    /// Registered name.
    public static let name = "adamw"
    /// One-line summary for `temper plugins`.
    public static let summary = "Adam with decoupled weight decay and bias correction (AdamW)"
    /// Settings, with PyTorch's AdamW defaults (weight decay 0.01).
    public static let parameters = AdamFamily.parameters(defaultDecay: 0.01)

    /// Reads the settings.
    public required init(config: ComponentConfig) throws {
        try super.init(config: config, decoupled: true, name: Self.name)
    }
}

/// Adam with L2 weight decay added to the gradient (`torch.optim.Adam`).
public final class Adam: AdamFamily, Optimizer {
    /// Registered name.
    public static let name = "adam"
    /// One-line summary for `temper plugins`.
    public static let summary = "Adam with bias correction; weight decay as an L2 term in the gradient"
    /// Settings, with PyTorch's Adam defaults (no weight decay).
    public static let parameters = AdamFamily.parameters(defaultDecay: 0)

    /// Reads the settings.
    public required init(config: ComponentConfig) throws {
        try super.init(config: config, decoupled: false, name: Self.name)
    }
}
