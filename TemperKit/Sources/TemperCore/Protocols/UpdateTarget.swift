/// A parameter and its gradient, checked once per step so an optimizer's update loop can run on
/// raw pointers (`parameter.floatPointer`, `gradient.floatPointer`) without per-element checks.
///
/// Every shipped optimizer starts its per-parameter work with one; a plugin optimizer should too,
/// so a frozen parameter is skipped and a view or a mis-shaped gradient is an error naming the
/// parameter, never a write through the wrong memory.
public struct UpdateTarget {
    /// The parameter's full name (`model.layers.0.self_attn.q_proj.lora_A.weight`).
    public let name: String
    /// The parameter, contiguous float32: updated in place.
    public let parameter: Tensor
    /// Its gradient, made contiguous, of the parameter's shape.
    public let gradient: Tensor

    /// Elements in the parameter (and in the gradient).
    public var count: Int { parameter.count }

    /// nil when `p` has no gradient this step (frozen, or unused by the loss); throws, naming
    /// `optimizer` and the parameter, when it cannot be updated in place.
    public init?(_ p: NamedParameter, optimizer: String) throws {
        guard let grad = p.tensor.grad else { return nil }
        guard p.tensor.dtype == .float32, p.tensor.isContiguous else {
            throw SpecError("\(optimizer): parameter \(p.name) must be a contiguous float32 tensor to be updated in place")
        }
        guard grad.shape == p.tensor.shape else {
            throw SpecError("\(optimizer): gradient of \(p.name) has shape \(grad.shape), the parameter \(p.tensor.shape)")
        }
        name = p.name
        parameter = p.tensor
        gradient = grad.contiguous()
    }
}
