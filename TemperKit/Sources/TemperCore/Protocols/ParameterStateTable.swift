/// Per-parameter optimizer state: for each parameter (by name) one float32 tensor per slot, of the
/// parameter's shape (Adam's `exp_avg` and `exp_avg_sq`), zero-filled on the parameter's first
/// update, and optionally a step count per parameter.
///
/// `state()` and `load(_:)` convert it to and from an `OptimizerState` keyed `<slot>.<parameter>`
/// and `step.<parameter>` (PyTorch's state names), copying every tensor, so a checkpoint written
/// mid-run and loaded into a fresh optimizer resumes bit for bit. Plugins use it instead of
/// keeping dictionaries of tensors and writing the save / restore / shape checks themselves.
public struct ParameterStateTable {
    /// One parameter's state, as `advance` hands it to the update.
    public struct Entry {
        /// The slot tensors, in the table's slot order; the update writes into them in place.
        public let tensors: [Tensor]
        /// Updates of this parameter including the current one (1 on its first), when the table
        /// counts steps; 0 when it does not.
        public let step: Int
        /// Whether `advance` just created the tensors (zero-filled) rather than finding them from an
        /// earlier update or a restored state (SGD's momentum buffer starts as the gradient itself).
        public let isNew: Bool
    }

    /// The optimizer's registered name, for messages.
    public let optimizer: String
    /// Names of the per-parameter tensors, without dots (`["exp_avg", "exp_avg_sq"]`).
    public let slots: [String]
    /// Whether each parameter's update count is kept (and saved as `step.<parameter>`).
    public let countsSteps: Bool
    private var entries: [String: (tensors: [Tensor], step: Int)] = [:]

    /// An empty table for `optimizer` with one tensor per slot per parameter.
    public init(optimizer: String, slots: [String], countsSteps: Bool) {
        self.optimizer = optimizer
        self.slots = slots
        self.countsSteps = countsSteps
    }

    /// The state of `target`'s parameter for the update about to run: created zero-filled on its
    /// first update, its step count advanced. Throws when restored state has another shape.
    public mutating func advance(_ target: UpdateTarget) throws -> Entry {
        let shape = target.parameter.shape
        guard var entry = entries[target.name] else {
            let created = slots.map { _ in Tensor.zeros(shape) }
            entries[target.name] = (created, countsSteps ? 1 : 0)
            return Entry(tensors: created, step: countsSteps ? 1 : 0, isNew: true)
        }
        if let first = entry.tensors.first, first.shape != shape {
            throw SpecError("\(optimizer): saved state of \(target.name) has shape \(first.shape), the parameter \(shape)")
        }
        if countsSteps { entry.step += 1 }
        entries[target.name] = entry
        return Entry(tensors: entry.tensors, step: entry.step, isNew: false)
    }

    /// A copy of every tensor, keyed `<slot>.<parameter>`, and the step counts `step.<parameter>`.
    public func state() -> OptimizerState {
        var s = OptimizerState()
        for (name, entry) in entries {
            for (slot, tensor) in zip(slots, entry.tensors) { s.tensors["\(slot).\(name)"] = tensor.copy() }
            if countsSteps { s.scalars["step.\(name)"] = Double(entry.step) }
        }
        return s
    }

    /// Replaces the table with copies of what `state()` saved. Every parameter needs all slots (and
    /// its step count when the table counts steps); any other key is an error naming it, so state
    /// from another optimizer is refused rather than half-used.
    public mutating func load(_ state: OptimizerState) throws {
        var tensors: [String: [String: Tensor]] = [:]
        for (key, tensor) in state.tensors {
            guard let slot = slots.first(where: { key.hasPrefix($0 + ".") }) else {
                throw SpecError("\(optimizer): unexpected state tensor '\(key)'")
            }
            tensors[String(key.dropFirst(slot.count + 1)), default: [:]][slot] = tensor
        }
        var steps: [String: Int] = [:]
        for (key, value) in state.scalars {
            guard countsSteps, key.hasPrefix("step.") else { throw SpecError("\(optimizer): unexpected state scalar '\(key)'") }
            guard value >= 0, let step = Int(exactly: value) else {
                throw SpecError("\(optimizer): state scalar '\(key)' = \(value) is not a step count")
            }
            steps[String(key.dropFirst("step.".count))] = step
        }
        var restored: [String: (tensors: [Tensor], step: Int)] = [:]
        for name in Set(tensors.keys).union(steps.keys).sorted() {
            let ordered = slots.compactMap { tensors[name]?[$0] }
            guard ordered.count == slots.count else {
                throw SpecError("\(optimizer): saved state lacks \(slots.joined(separator: " / ")) of \(name)")
            }
            guard ordered.allSatisfy({ $0.shape == ordered[0].shape && $0.dtype == .float32 }) else {
                throw SpecError("\(optimizer): saved state of \(name) has \(slots.joined(separator: " / ")) of different shapes or not float32")
            }
            let step = steps[name] ?? 0
            guard !countsSteps || step > 0 else {
                throw SpecError("\(optimizer): saved state of \(name) lacks its step count 'step.\(name)'")
            }
            restored[name] = (ordered.map { $0.copy() }, step)
        }
        entries = restored
    }
}
