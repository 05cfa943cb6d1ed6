import TemperTensor

/// Hands out a model's parameters by Hugging Face name while the model is built, checking each one's
/// shape, and afterwards that nothing was left over — so a checkpoint for another architecture or
/// size is an error naming the tensor, never a silently half-loaded model.
struct WeightSource {
    private var tensors: [String: Tensor]
    private let source: String
    private var rng: PhiloxRNG?
    private let initStd: Float

    /// Parameters from a loaded checkpoint; `source` names the file in errors.
    init(tensors: [String: Tensor], source: String) {
        self.tensors = tensors
        self.source = source
        rng = nil
        initStd = 0
    }

    /// Fresh parameters: N(0, std²) matrices, unit norm scales, zero biases.
    init(randomSeed: UInt64, std: Float) {
        tensors = [:]
        source = "random initialisation"
        rng = PhiloxRNG(seed: randomSeed)
        initStd = std
    }

    /// The tensor called `name`, which must have `shape`.
    mutating func take(_ name: String, _ shape: [Int]) throws -> Tensor {
        if rng != nil {
            let t: Tensor
            if name.hasSuffix("norm.weight") { t = Tensor.ones(shape) }
            else if name.hasSuffix(".bias") { t = Tensor.zeros(shape) }
            else { t = Tensor.randn(shape, std: initStd, rng: &rng!) }
            t.name = name
            return t
        }
        guard let t = tensors.removeValue(forKey: name) else {
            throw ModelFormatError(file: source, "missing tensor '\(name)' (expected shape \(shape))")
        }
        guard t.shape == shape else {
            throw ModelFormatError(file: source, "tensor '\(name)' has shape \(t.shape), expected \(shape)")
        }
        guard t.dtype == .float32 else {
            throw ModelFormatError(file: source, "tensor '\(name)' is \(t.dtype), expected float32")
        }
        let owned = t.isContiguous ? t : t.copy()
        // A NaN or infinity in a frozen weight would pass unnoticed under PEFT (finite-looking
        // training, garbage generations), so the file is refused here, once, naming the element.
        if let bad = owned.firstNonFiniteIndex() {
            throw ModelFormatError(file: source, "tensor '\(name)' holds a non-finite value (\(owned.floatPointer[bad]) at element \(bad) of \(shape))")
        }
        owned.name = name
        return owned
    }

    /// Takes `name` if the checkpoint has it (a tied model may or may not store `lm_head.weight`).
    mutating func takeIfPresent(_ name: String, _ shape: [Int]) throws -> Tensor? {
        if rng != nil || tensors[name] == nil { return nil }
        return try take(name, shape)
    }

    /// Fails if the checkpoint held tensors the model did not use.
    func checkAllUsed() throws {
        if let extra = tensors.keys.sorted().first {
            throw ModelFormatError(file: source, "unexpected tensor '\(extra)' (\(tensors.count) tensors not used by this model configuration)")
        }
    }
}
