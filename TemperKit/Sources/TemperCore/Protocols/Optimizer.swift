/// Parameters that share optimizer settings, as in PyTorch's param groups.
///
/// `learningRateScale` multiplies the optimizer's current learning rate, so a scheduler that moves
/// the base rate moves every group (LoRA+ gives B matrices `ratio` times A's rate).
/// `weightDecay` overrides the optimizer's decay (0 for biases and norms, as trainers usually do).
public struct ParameterGroup {
    /// Group label, for messages and saved state.
    public var name: String
    /// The tensors in the group.
    public var parameters: [NamedParameter]
    /// Factor applied to the optimizer's learning rate for this group.
    public var learningRateScale: Float
    /// Weight decay for this group, or nil for the optimizer's own setting.
    public var weightDecay: Float?

    /// A group with optional per-group rate scale and decay.
    public init(name: String = "default", parameters: [NamedParameter], learningRateScale: Float = 1, weightDecay: Float? = nil) {
        self.name = name
        self.parameters = parameters
        self.learningRateScale = learningRateScale
        self.weightDecay = weightDecay
    }
}

/// An optimizer's saved state: tensors (moments, keyed like `exp_avg.<parameter name>`) and scalars
/// (step counts). Checkpoints write it as safetensors + JSON.
public struct OptimizerState {
    /// State tensors by key.
    public var tensors: [String: Tensor]
    /// Scalar state by key.
    public var scalars: [String: Double]

    /// State from parts.
    public init(tensors: [String: Tensor] = [:], scalars: [String: Double] = [:]) {
        self.tensors = tensors
        self.scalars = scalars
    }
}

/// Updates trainable parameters from their gradients, in place, and owns the state that needs.
///
/// The trainer sets `learningRate` from its schedule before each `step`. Parameters whose `grad` is
/// nil are skipped. `state()` / `load(state:)` round-trip exactly, so a resumed run is bit-identical.
public protocol Optimizer: Component, AnyObject {
    /// The current base learning rate (before each group's `learningRateScale`).
    var learningRate: Float { get set }
    /// Applies one update to every parameter in `groups` that has a gradient.
    func step(_ groups: [ParameterGroup]) throws
    /// A copy of the optimizer's state.
    func state() -> OptimizerState
    /// Restores state saved by `state()`; throws naming the key if a tensor is missing or mis-shaped.
    func load(state: OptimizerState) throws
}

extension Optimizer {
    public static var kind: ComponentKind { .optimizer }
}
