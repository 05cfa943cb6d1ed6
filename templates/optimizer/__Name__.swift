import TemperCore

/// __component__: gradient descent θ ← θ − η·(∇ + λθ). Replace the update in `step` with your method;
/// keep per-parameter state in a dictionary keyed by parameter name and return it from `state()`.
public final class __Name__: Optimizer {
    public static let name = "__component__"
    public static let summary = "gradient descent with L2 weight decay (template: edit me)"
    public static let parameters: [ParameterSpec] = [
        .float("lr", default: 1e-3, range: .greaterThan(0), aliases: ["learning_rate"], doc: "learning rate η"),
        .float("weight_decay", default: 0, range: .atLeast(0), doc: "L2 penalty λ added to the gradient"),
    ]

    public var learningRate: Float
    let weightDecay: Float

    public init(config: ComponentConfig) throws {
        learningRate = try config.float("lr")
        weightDecay = try config.float("weight_decay")
    }

    public func step(_ groups: [ParameterGroup]) throws {
        for group in groups {
            let lr = learningRate * group.learningRateScale
            let wd = group.weightDecay ?? weightDecay
            for p in group.parameters {
                guard let grad = p.tensor.grad?.contiguous() else { continue }
                guard p.tensor.isContiguous, grad.shape == p.tensor.shape else {
                    throw SpecError("\(Self.name): \(p.name) must be contiguous and shaped like its gradient")
                }
                let theta = p.tensor.floatPointer, g = grad.floatPointer
                withExtendedLifetime(grad) {
                    // Split across cores for large tensors; each range writes only its own elements.
                    Parallel.forRanges(p.tensor.count, grain: 1 << 15) { range in
                        for i in range { theta[i] -= lr * (g[i] + wd * theta[i]) }
                    }
                }
            }
        }
    }

    public func state() -> OptimizerState { OptimizerState() }

    public func load(state: OptimizerState) throws {
        guard state.tensors.isEmpty, state.scalars.isEmpty else { throw SpecError("\(Self.name): keeps no state, but state was given") }
    }
}
