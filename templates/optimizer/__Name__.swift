import Foundation
import TemperCore

/// __component__: RMSprop with a bias-corrected squared-gradient average (template: edit me).
/// Per parameter it keeps one moment tensor and a step count in a `ParameterStateTable`, which
/// also saves and restores them, so a resumed run is bitwise the same as an uninterrupted one:
///
/// g ← ∇ + λθ; v ← αv + (1−α)g²; θ ← θ − η·g / (√(v / (1−αᵗ)) + ε).
public final class __Name__: Optimizer {
    /// Registered name: the spec `--optimizer __component__:lr=1e-3` selects it.
    public static let name = "__component__"
    /// One line for `temper plugins`.
    public static let summary = "RMSprop with a bias-corrected square average (template: edit me)"
    /// Settings, checked by the host (type, range, unknown keys) before `init(config:)` runs.
    public static let parameters: [ParameterSpec] = [
        .float("lr", default: 1e-3, range: .greaterThan(0), aliases: ["learning_rate"], doc: "learning rate η"),
        .float("alpha", default: 0.99, range: .halfOpen(0, 1), doc: "decay α of the squared-gradient average"),
        .float("eps", default: 1e-8, range: .greaterThan(0), doc: "ε added to the denominator for stability"),
        .float("weight_decay", default: 0, range: .atLeast(0), doc: "L2 penalty λ added to the gradient"),
    ]

    /// Current learning rate η (the trainer's schedule sets it before each step).
    public var learningRate: Float
    let alpha: Float
    let eps: Float
    let weightDecay: Float
    /// `square_avg.<parameter>` tensors and `step.<parameter>` counts.
    private var moments = ParameterStateTable(optimizer: __Name__.name, slots: ["square_avg"], countsSteps: true)

    /// Reads the validated settings.
    public init(config: ComponentConfig) throws {
        learningRate = try config.float("lr")
        alpha = try config.float("alpha")
        eps = try config.float("eps")
        weightDecay = try config.float("weight_decay")
    }

    /// One update of every parameter that has a gradient, from its moment and step count.
    public func step(_ groups: [ParameterGroup]) throws {
        for group in groups {
            let lr = learningRate * group.learningRateScale
            let wd = group.weightDecay ?? weightDecay
            for p in group.parameters {
                // nil: no gradient this step; throws for a parameter that cannot be updated in place.
                guard let target = try UpdateTarget(p, optimizer: Self.name) else { continue }
                let state = try moments.advance(target)
                let theta = target.parameter.floatPointer, grad = target.gradient.floatPointer
                let v = state.tensors[0].floatPointer
                let a = alpha, eps = eps
                let correction = Float(1 - pow(Double(a), Double(state.step)))
                withExtendedLifetime((target, state.tensors)) {
                    // Split across cores for large tensors; each range writes only its own elements.
                    Parallel.forRanges(target.count, grain: 1 << 15) { range in
                        for i in range {
                            let g = grad[i] + wd * theta[i]
                            v[i] = a * v[i] + (1 - a) * g * g
                            theta[i] -= lr * g / ((v[i] / correction).squareRoot() + eps)
                        }
                    }
                }
            }
        }
    }

    /// The moments and step counts, saved in every checkpoint.
    public func state() -> OptimizerState { moments.state() }

    /// Restores what `state()` saved; foreign or incomplete state is an error naming the key.
    public func load(state: OptimizerState) throws { try moments.load(state) }
}
