import TemperCore

/// Marks every base parameter frozen, so only what a method adds (or re-enables) trains.
func freezeBase(_ model: any AdaptableModel) {
    // Block-quantized weights are frozen by construction; listing them would decode float copies.
    for p in (model as? LlamaModel)?.floatNamedParameters ?? model.namedParameters { p.tensor.requiresGrad = false }
}

/// Elements in the base model's parameters.
func baseParameterCount(_ model: any AdaptableModel) -> Int {
    (model as? LlamaModel)?.parameterCount ?? model.namedParameters.reduce(0) { $0 + $1.tensor.count }
}

/// A trainable leaf holding `values`.
func trainableLeaf(_ shape: [Int], _ values: [Float], name: String) -> Tensor {
    let t = Tensor(shape: shape, scalars: values, requiresGrad: true)
    t.name = name
    return t
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
