import TemperCore

/// A parameter and its gradient as raw float buffers, checked once per step so the update loops
/// can run on pointers.
struct UpdateTarget {
    let name: String
    let parameter: Tensor
    let gradient: Tensor
    var count: Int { parameter.count }

    /// nil when the parameter has no gradient this step; throws when it cannot be updated in place.
    init?(_ p: NamedParameter, optimizer: String) throws {
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

/// Elementwise updates over both cores above this many elements; below it a dispatch costs more than it saves.
let parallelGrain = 1 << 15

/// Loads and stores of 8 floats at once.
@inline(__always) func load8(_ p: UnsafeMutablePointer<Float>, _ i: Int) -> SIMD8<Float> {
    UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
}

@inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ i: Int) {
    UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<Float>.self)
}

/// A state tensor of `like`'s shape, zero-filled, or the saved one after checking its shape.
func stateTensor(_ key: String, in saved: OptimizerState, like parameter: Tensor, optimizer: String) throws -> Tensor {
    guard let t = saved.tensors[key] else { throw SpecError("\(optimizer): saved state lacks tensor '\(key)'") }
    guard t.shape == parameter.shape, t.dtype == .float32 else {
        throw SpecError("\(optimizer): saved state '\(key)' has shape \(t.shape), the parameter \(parameter.shape)")
    }
    return t.copy()
}
