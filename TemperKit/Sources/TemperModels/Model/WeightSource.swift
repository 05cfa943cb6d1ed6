import TemperTensor

/// Hands out a model's parameters by Hugging Face name while the model is built, checking each one's
/// shape, and afterwards that nothing was left over — so a checkpoint for another architecture or
/// size is an error naming the tensor, never a silently half-loaded model.
struct WeightSource {
    private var tensors: [String: Tensor]
    private var quantized: [String: QuantizedMatrix]
    private let source: String
    private var rng: PhiloxRNG?
    private let initStd: Float

    /// Parameters from a loaded checkpoint; `source` names the file in errors.
    init(tensors: [String: Tensor], quantized: [String: QuantizedMatrix] = [:], source: String) {
        self.tensors = tensors
        self.quantized = quantized
        self.source = source
        rng = nil
        initStd = 0
    }

    /// Fresh parameters: N(0, std²) matrices, unit norm scales, zero biases.
    init(randomSeed: UInt64, std: Float) {
        tensors = [:]
        quantized = [:]
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

    /// The linear layer `name` (`[out, inp]` weight, optional `[out]` bias), its weight kept in block
    /// format when the checkpoint was loaded that way.
    mutating func linear(_ name: String, out: Int, inp: Int, bias: Bool) throws -> Linear {
        let q = quantized.removeValue(forKey: "\(name).weight")
        let w = q == nil ? try take("\(name).weight", [out, inp]) : nil
        let b = bias ? try take("\(name).bias", [out]) : nil
        guard let q else { return Linear(name: name, weight: w!, bias: b) }
        guard q.rows == out, q.columns == inp else {
            throw ModelFormatError(file: source, "tensor '\(name).weight' has shape [\(q.rows), \(q.columns)], expected [\(out), \(inp)]")
        }
        return Linear(name: name, quantizedWeight: q, bias: b)
    }

    /// The embedding table `name`: float, or in block format when the checkpoint was loaded that way.
    mutating func embedding(_ name: String, _ shape: [Int]) throws -> (Tensor?, QuantizedMatrix?) {
        guard let q = quantized.removeValue(forKey: name) else { return (try take(name, shape), nil) }
        guard [q.rows, q.columns] == shape else {
            throw ModelFormatError(file: source, "tensor '\(name)' has shape [\(q.rows), \(q.columns)], expected \(shape)")
        }
        return (nil, q)
    }

    /// Takes `name` if the checkpoint has it (a tied model may or may not store `lm_head.weight`).
    mutating func takeIfPresent(_ name: String, _ shape: [Int]) throws -> Tensor? {
        if rng != nil || tensors[name] == nil { return nil }
        return try take(name, shape)
    }

    /// Fails if the checkpoint held tensors the model did not use.
    func checkAllUsed() throws {
        if let extra = (Array(tensors.keys) + Array(quantized.keys)).sorted().first {
            throw ModelFormatError(file: source, "unexpected tensor '\(extra)' (\(tensors.count + quantized.count) tensors not used by this model configuration)")
        }
    }
}
