/// One recorded operation of the autograd graph: the inputs it read and how to turn the gradient
/// of its output into gradients of those inputs.
public final class GradFn {
    /// Operation name, for error messages and graph dumps.
    public let name: String
    /// The tensors the op read; the graph edges.
    public internal(set) var inputs: [Tensor]
    /// Maps the output gradient to one gradient per input (nil where an input needs none).
    /// Runs with recording off. Set to nil once used, which frees everything it captured.
    var backward: ((Tensor) -> [Tensor?])?

    init(name: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        self.inputs = inputs
        self.backward = backward
    }
}

/// Attaches a graph node to `output` when recording is on and some input requires grad; returns
/// `output`. Every differentiable op ends with this call. `backward` receives the gradient of
/// `output` (same shape) and returns gradients shaped like each input.
@inline(__always)
public func record(_ output: Tensor, _ name: String, _ inputs: [Tensor],
                   _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
    if _slowPath(OpProfiler.isEnabled) && !OpProfiler.inBackward { OpProfiler.forwardOpEnded(name) }
    guard GradMode.isEnabled else { return output }
    var needs = false
    for t in inputs where t.requiresGrad { needs = true; break }
    guard needs else { return output }
    output.requiresGrad = true
    output.gradFn = GradFn(name: name, inputs: inputs, backward: backward)
    return output
}

extension Tensor {
    /// Back-propagates from this tensor, adding gradients into every leaf that requires grad.
    ///
    /// `gradient` defaults to 1 and may be omitted only for a one-element tensor. The graph is freed
    /// as it is walked (each node's saved tensors are released once used), so call it once per forward.
    public func backward(_ gradient: Tensor? = nil) {
        precondition(requiresGrad, "backward() on a tensor that does not require grad")
        let seed: Tensor
        if let g = gradient {
            precondition(g.shape == shape, "backward gradient shape \(g.shape) != tensor shape \(shape)")
            seed = g
        } else {
            precondition(count == 1, "backward() without a gradient needs a one-element tensor, got shape \(shape)")
            seed = Tensor.full(shape, 1)
        }

        // Topological order by iterative depth-first search (graphs of deep models are thousands deep).
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded { order.append(t); continue }
            if !visited.insert(ObjectIdentifier(t)).inserted { continue }
            stack.append((t, true))
            if let fn = t.gradFn {
                for input in fn.inputs where input.requiresGrad && !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }

        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(self): seed]
        let profiling = OpProfiler.isEnabled
        if profiling { OpProfiler.charge(.other, .forward); OpProfiler.inBackward = true }
        defer { if profiling { OpProfiler.inBackward = false; OpProfiler.mark() } }
        GradMode.withNoGrad { GEMMProfiler.withRole(.inputGradient) {
            for t in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(t)) else { continue }
                guard let fn = t.gradFn else {
                    if t.requiresGrad {
                        // A leaf's grad is a buffer of its own, so later steps may add into it in place.
                        if let existing = t.grad { Tensor.addInPlace(existing, g) } else { t.grad = g.copy() }
                        if profiling { OpProfiler.charge(.gradientAccumulation, .backward) }
                    }
                    continue
                }
                guard let bw = fn.backward else {
                    preconditionFailure("backward through '\(fn.name)' twice: its graph was already freed")
                }
                let inputGrads = bw(g)
                if profiling { OpProfiler.charge(OpProfiler.Family.of(op: fn.name), .backward) }
                precondition(inputGrads.count == fn.inputs.count, "\(fn.name): \(inputGrads.count) grads for \(fn.inputs.count) inputs")
                for (input, ig) in zip(fn.inputs, inputGrads) {
                    guard input.requiresGrad, let ig else { continue }
                    precondition(ig.shape == input.shape,
                                 "\(fn.name): gradient shape \(ig.shape) for input of shape \(input.shape)")
                    let key = ObjectIdentifier(input)
                    grads[key] = grads[key].map { Tensor.sum($0, ig) } ?? ig
                }
                if profiling { OpProfiler.charge(.gradientAccumulation, .backward) }
                fn.backward = nil
                fn.inputs = []
                t.gradFn = nil
            }
        } }
    }

    /// `a + b` into a new buffer: gradients in flight may alias each other (an add passes one
    /// gradient to both inputs), so they are never updated in place.
    static func sum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let out = a.copy()
        addInPlace(out, b)
        return out
    }

    /// `a += b` for same-shaped tensors; `a` must be contiguous and owned by the caller.
    static func addInPlace(_ a: Tensor, _ b: Tensor) {
        precondition(a.isContiguous && a.shape == b.shape)
        let bc = b.isContiguous ? b : b.copy()
        let po = a.floatPointer, pb = bc.floatPointer
        withExtendedLifetime(bc) {
            for i in 0..<a.count { po[i] += pb[i] }
        }
    }
}
