extension AdapterExport {
    /// The key PEFT saves a module's adapter tensor under: the model wrapped as
    /// `base_model.model.<module>.<tensor>` (`base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`).
    public static func peftKey(module: String, tensor: String) -> String {
        "base_model.model.\(module).\(tensor)"
    }
}

/// The tensors of a saved adapter while a `LoadablePEFTMethod.load` copies them into the adapters
/// it installed: each is taken once and shape-checked, and `finish()` refuses leftovers, which
/// belong to modules the method did not adapt (a `target_modules` mismatch) rather than being
/// silently ignored.
public struct SavedAdapterTensors {
    /// The method's name, for messages.
    public let owner: String
    /// Tensors not taken yet, by key.
    public private(set) var remaining: [String: Tensor]

    /// The tensors of `adapter`, for the method `owner`.
    public init(_ adapter: AdapterExport, owner: String) {
        self.owner = owner
        remaining = adapter.tensors
    }

    /// Removes and returns the tensor `key`; throws naming it when it is missing or not of `shape`.
    public mutating func take(_ key: String, shape: [Int]) throws -> Tensor {
        guard let t = remaining.removeValue(forKey: key) else {
            throw SpecError("\(owner): the adapter has no tensor '\(key)' (expected shape \(shape))")
        }
        guard t.shape == shape else {
            throw SpecError("\(owner): adapter tensor '\(key)' has shape \(t.shape), expected \(shape)")
        }
        return t
    }

    /// Takes `key` (saved as `savedShape`, by default `destination`'s) and copies its values into
    /// `destination`, which keeps its identity, so the model and an optimizer still hold it.
    public mutating func copy(_ key: String, into destination: Tensor, savedShape: [Int]? = nil) throws {
        let src = try take(key, shape: savedShape ?? destination.shape).contiguous()
        guard src.count == destination.count else {
            throw SpecError("\(owner): adapter tensor '\(key)' has \(src.count) elements, the destination \(destination.count)")
        }
        let dst = destination.floatPointer
        src.withUnsafeBufferPointer { p in
            for i in 0..<p.count { dst[i] = p[i] }
        }
    }

    /// Throws when tensors are left over: they match no module this method adapted.
    public func finish() throws {
        if let extra = remaining.keys.sorted().first {
            throw SpecError("\(owner): the adapter has tensor '\(extra)' (and \(remaining.count - 1) more unused), which matches no adapted module; check target_modules")
        }
    }
}
