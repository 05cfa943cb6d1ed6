import TemperCore

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, with
/// PyTorch's `torch.optim.SGD` semantics:
/// g ← ∇ + λθ; b ← μb + (1−τ)g (b = g on the first step); g ← g + μb (Nesterov) or b; θ ← θ − ηg.
public final class SGD: Optimizer {
    /// Registered name.
    public static let name = "sgd"
    /// One-line summary for `temper plugins`.
    public static let summary = "SGD with momentum, Nesterov momentum and L2 weight decay"
    /// Settings, with PyTorch's defaults.
    public static let parameters: [ParameterSpec] = [
        .float("lr", default: 1e-3, range: .greaterThan(0), aliases: ["learning_rate"], doc: "learning rate η"),
        .float("momentum", default: 0, range: .halfOpen(0, 1), doc: "momentum factor μ (0 = plain SGD)"),
        .float("dampening", default: 0, range: .closed(0, 1), doc: "dampening τ of the momentum buffer's gradient term"),
        .float("weight_decay", default: 0, range: .atLeast(0), doc: "L2 penalty λ added to the gradient"),
        .bool("nesterov", default: false, doc: "Nesterov momentum (needs momentum > 0 and dampening = 0)"),
    ]

    /// Current learning rate η (the trainer's schedule sets it before each step).
    public var learningRate: Float
    let momentum: Float
    let dampening: Float
    let weightDecay: Float
    let nesterov: Bool
    private var buffers = ParameterStateTable(optimizer: SGD.name, slots: ["momentum_buffer"], countsSteps: false)

    /// Reads the settings; Nesterov without momentum (or with dampening) is an error, as in PyTorch.
    public init(config: ComponentConfig) throws {
        learningRate = try config.float("lr")
        momentum = try config.float("momentum")
        dampening = try config.float("dampening")
        weightDecay = try config.float("weight_decay")
        nesterov = try config.bool("nesterov")
        if nesterov, momentum == 0 || dampening != 0 {
            throw SpecError("sgd: nesterov=true needs momentum > 0 and dampening = 0 (got momentum=\(momentum), dampening=\(dampening))")
        }
    }

    /// Updates every parameter that has a gradient; momentum buffers are created on first use.
    public func step(_ groups: [ParameterGroup]) throws {
        for group in groups {
            let lr = learningRate * group.learningRateScale
            let wd = group.weightDecay ?? weightDecay
            for p in group.parameters {
                guard let target = try UpdateTarget(p, optimizer: Self.name) else { continue }
                // Plain SGD (momentum 0) keeps no buffer at all, as PyTorch.
                let buffer = try momentum != 0 ? buffers.advance(target) : nil
                update(target, buffer: buffer?.tensors[0], firstStep: buffer?.isNew ?? false, lr: lr, weightDecay: wd)
            }
        }
    }

    private func update(_ t: UpdateTarget, buffer: Tensor?, firstStep: Bool, lr: Float, weightDecay wd: Float) {
        let theta = t.parameter.floatPointer, grad = t.gradient.floatPointer
        let buf = buffer?.floatPointer
        // On the first step the buffer becomes g itself: no decay of the (zero) buffer, no dampening.
        let bufferDecay = firstStep ? 0 : momentum, keep = firstStep ? 1 : 1 - dampening
        let mu = momentum, nesterov = self.nesterov
        withExtendedLifetime((t, buffer)) {
            Parallel.forRanges(t.count, grain: parallelGrain) { range in
                var i = range.lowerBound
                let end = range.upperBound
                let vDecay = SIMD8<Float>(repeating: bufferDecay), vKeep = SIMD8<Float>(repeating: keep)
                let vLr = SIMD8<Float>(repeating: lr), vWd = SIMD8<Float>(repeating: wd), vMuN = SIMD8<Float>(repeating: mu)
                while i + 8 <= end {
                    var g = load8(grad, i) + vWd * load8(theta, i)
                    if let buf {
                        let b = vDecay * load8(buf, i) + vKeep * g
                        store8(b, buf, i)
                        g = nesterov ? g + vMuN * b : b
                    }
                    store8(load8(theta, i) - vLr * g, theta, i)
                    i += 8
                }
                while i < end {
                    var g = grad[i] + wd * theta[i]
                    if let buf {
                        let b = bufferDecay * buf[i] + keep * g
                        buf[i] = b
                        g = nesterov ? g + mu * b : b
                    }
                    theta[i] -= lr * g
                    i += 1
                }
            }
        }
    }

    /// Momentum buffers, keyed `momentum_buffer.<parameter name>`.
    public func state() -> OptimizerState { buffers.state() }

    /// Restores buffers saved by `state()`.
    public func load(state: OptimizerState) throws { try buffers.load(state) }
}
