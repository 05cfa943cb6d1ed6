import TemperCore

/// The key PEFT saves a module's adapter tensor under: the model wrapped as
/// `base_model.model.<module>.<tensor>`, e.g. `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`.
func peftKey(_ module: String, _ tensor: String) -> String {
    "base_model.model.\(module).\(tensor)"
}

/// Marks every base parameter frozen, so only what a method adds (or re-enables) trains.
func freezeBase(_ model: any AdaptableModel) {
    for p in model.namedParameters { p.tensor.requiresGrad = false }
}

/// Elements in the base model's parameters.
func baseParameterCount(_ model: any AdaptableModel) -> Int {
    model.namedParameters.reduce(0) { $0 + $1.tensor.count }
}

/// A trainable leaf holding `values`.
func trainableLeaf(_ shape: [Int], _ values: [Float], name: String) -> Tensor {
    let t = Tensor(shape: shape, scalars: values, requiresGrad: true)
    t.name = name
    return t
}

/// Takes the tensor `key` out of saved adapter tensors, checking its shape, and copies it into
/// `destination` (which keeps its identity, so optimizers and the model still hold it).
func copySaved(_ key: String, from saved: inout [String: Tensor], into destination: Tensor, owner: String,
               reshapedFrom savedShape: [Int]? = nil) throws {
    guard let t = saved.removeValue(forKey: key) else {
        throw SpecError("\(owner): the adapter has no tensor '\(key)' (expected shape \(savedShape ?? destination.shape))")
    }
    guard t.shape == (savedShape ?? destination.shape) else {
        throw SpecError("\(owner): adapter tensor '\(key)' has shape \(t.shape), expected \(savedShape ?? destination.shape)")
    }
    let src = t.contiguous()
    let dst = destination.floatPointer
    src.withUnsafeBufferPointer { p in
        for i in 0..<p.count { dst[i] = p[i] }
    }
}

/// Fails when saved tensors are left over: they belong to modules this method did not adapt.
func checkAllConsumed(_ saved: [String: Tensor], owner: String) throws {
    if let extra = saved.keys.sorted().first {
        throw SpecError("\(owner): the adapter has tensor '\(extra)' (and \(saved.count - 1) more unused), which matches no adapted module; check target_modules")
    }
}

/// The parameter groups trainers use: weight decay off for biases and norm scales (as Hugging Face
/// Trainer does), on for everything else.
func decayGroups(_ parameters: [NamedParameter]) -> [ParameterGroup] {
    let noDecay = parameters.filter { $0.name.hasSuffix(".bias") || $0.name.contains("norm") }
    let decay = parameters.filter { !($0.name.hasSuffix(".bias") || $0.name.contains("norm")) }
    var groups: [ParameterGroup] = []
    if !decay.isEmpty { groups.append(ParameterGroup(name: "decay", parameters: decay)) }
    if !noDecay.isEmpty { groups.append(ParameterGroup(name: "no_decay", parameters: noDecay, weightDecay: 0)) }
    return groups
}
