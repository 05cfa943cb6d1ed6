/// One recorded operation of the autograd graph: where the gradient of its output goes and how to
/// turn it into gradients of its inputs.
///
/// A node keeps no input's values: its edges name the nodes that produced the inputs (or the leaf
/// parameters), and its backward closure captures exactly the tensors backward reads. So an
/// intermediate that backward does not need — the two summands of a residual add, a frozen
/// projection's output — is freed as soon as the forward moves past it, instead of living until
/// backward; that is most of a LoRA step's activation memory.
public final class GradFn {
    /// Operation name, for error messages and graph dumps.
    public let name: String
    /// One edge per input of the op, in order.
    var edges: [GradEdge]
    /// Maps the output gradient to one gradient per input (nil where an input needs none).
    /// Runs with recording off. Set to nil once used, which frees everything it captured.
    var backward: ((Tensor) -> [Tensor?])?
    /// The tensor this node produced, so backward can detach it from the freed graph (weak: the
    /// tensor owns its node, and may be gone by the time backward runs).
    weak var output: Tensor?

    init(name: String, inputs: [Tensor], output: Tensor, backward: @escaping (Tensor) -> [Tensor?]) {
        self.name = name
        edges = inputs.map(GradEdge.init)
        self.output = output
        self.backward = backward
    }
}

/// Where the gradient for one input of a recorded op goes. Whether the input wants a gradient is
/// read when the op is recorded: a tensor frozen (or unfrozen) after a forward used it keeps, in
/// that forward's backward, the role it had then.
struct GradEdge {
    /// The node that produced the input, when the input is itself in the graph.
    let node: GradFn?
    /// The input, when it is a leaf that requires grad (its `grad` receives the gradient).
    let leaf: Tensor?
    /// The input's shape, to check the gradient against.
    let shape: [Int]

    init(_ input: Tensor) {
        node = input.requiresGrad ? input.gradFn : nil
        leaf = input.requiresGrad && input.gradFn == nil ? input : nil
        shape = input.shape
    }

    /// Whether a gradient for this input is wanted.
    var requiresGrad: Bool { node != nil || leaf != nil }
}

/// Attaches a graph node to `output` when recording is on and some input requires grad; returns
/// `output`. Every differentiable op ends with this call. `backward` receives the gradient of
/// `output` (same shape) and returns gradients shaped like each input. It should capture only what
/// it reads (flags and shapes rather than whole input tensors), since that is what stays alive.
@inline(__always)
public func record(_ output: Tensor, _ name: String, _ inputs: [Tensor],
                   _ backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
    if _slowPath(OpProfiler.isEnabled) && !OpProfiler.inBackward { OpProfiler.forwardOpEnded(name) }
    guard GradMode.isEnabled else { return output }
    var needs = false
    for t in inputs where t.requiresGrad { needs = true; break }
    guard needs else { return output }
    output.requiresGrad = true
    output.gradFn = GradFn(name: name, inputs: inputs, output: output, backward: backward)
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
        guard let root = gradFn else {
            if let existing = grad { Tensor.addInPlace(existing, seed) } else { grad = seed.copy() }
            return
        }

        // Topological order by iterative depth-first search (graphs of deep models are thousands deep).
        var order: [GradFn] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(GradFn, Bool)] = [(root, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            if !visited.insert(ObjectIdentifier(node)).inserted { continue }
            stack.append((node, true))
            for edge in node.edges {
                if let next = edge.node, !visited.contains(ObjectIdentifier(next)) { stack.append((next, false)) }
            }
        }
        // A leaf's gradient is complete once every edge into it has been walked.
        var pendingEdges: [ObjectIdentifier: Int] = [:]
        for node in order { for edge in node.edges { if let leaf = edge.leaf { pendingEdges[ObjectIdentifier(leaf), default: 0] += 1 } } }

        // Gradients in flight: by node, and for leaves summed apart until their last edge is walked.
        var grads: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): seed]
        var leafGrads: [ObjectIdentifier: Tensor] = [:]
        func walked(_ leaf: Tensor) {
            let key = ObjectIdentifier(leaf)
            let left = pendingEdges[key, default: 1] - 1
            pendingEdges[key] = left
            if left == 0, let g = leafGrads.removeValue(forKey: key) { Tensor.deliver(g, to: leaf) }
        }
        let profiling = OpProfiler.isEnabled, nested = OpProfiler.inBackward
        if profiling { OpProfiler.charge(nested ? .checkpointed : .other, nested ? .backward : .forward); OpProfiler.inBackward = true }
        defer { if profiling { OpProfiler.inBackward = nested; if !nested { OpProfiler.mark() } } }
        GradMode.withNoGrad { GEMMProfiler.withRole(.inputGradient) {
            for fn in order.reversed() {
                guard let g = grads.removeValue(forKey: ObjectIdentifier(fn)) else {
                    for edge in fn.edges { if let leaf = edge.leaf { walked(leaf) } }
                    continue
                }
                guard let bw = fn.backward else {
                    preconditionFailure("backward through '\(fn.name)' twice: its graph was already freed")
                }
                let inputGrads = bw(g)
                if profiling { OpProfiler.charge(OpProfiler.Family.of(op: fn.name), .backward) }
                precondition(inputGrads.count == fn.edges.count, "\(fn.name): \(inputGrads.count) grads for \(fn.edges.count) inputs")
                for (edge, ig) in zip(fn.edges, inputGrads) {
                    if let ig, edge.requiresGrad {
                        precondition(ig.shape == edge.shape,
                                     "\(fn.name): gradient shape \(ig.shape) for input of shape \(edge.shape)")
                        if let next = edge.node {
                            let key = ObjectIdentifier(next)
                            grads[key] = grads[key].map { Tensor.sum($0, ig) } ?? ig
                        } else if let leaf = edge.leaf {
                            let key = ObjectIdentifier(leaf)
                            leafGrads[key] = leafGrads[key].map { Tensor.sum($0, ig) } ?? ig
                        }
                    }
                    if let leaf = edge.leaf { walked(leaf) }
                }
                fn.backward = nil
                fn.edges = []
                fn.output?.gradFn = nil
                if profiling { OpProfiler.charge(.gradientAccumulation, .backward) }
            }
        } }
    }

    /// Adds a leaf's finished gradient of this backward pass into its `grad`. The grad is a buffer
    /// of its own (a copy the first time), so later passes may add into it in place.
    static func deliver(_ g: Tensor, to leaf: Tensor) {
        if let existing = leaf.grad { Tensor.addInPlace(existing, g) } else { leaf.grad = g.copy() }
        GradientReadyHook.gradientAdded(to: leaf)
    }

    /// `a + b` into a new buffer: gradients in flight may alias each other (an add passes one
    /// gradient to both inputs), so they are never updated in place.
    static func sum(_ a: Tensor, _ b: Tensor) -> Tensor {
        ElementwiseKernels.binary(a, b) { $0 + $1 }
    }

    /// `a += b` for same-shaped tensors; `a` must be contiguous and owned by the caller.
    static func addInPlace(_ a: Tensor, _ b: Tensor) {
        precondition(a.isContiguous && a.shape == b.shape)
        let bc = b.isContiguous ? b : b.copy()
        withExtendedLifetime(bc) { ElementwiseKernels.map(a.count, a.floatPointer, bc.floatPointer, a.floatPointer) { $0 + $1 } }
    }
}
