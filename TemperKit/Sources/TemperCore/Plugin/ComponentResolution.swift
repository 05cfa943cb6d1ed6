/// Turning specs (`adamw:lr=2e-4`) into configured components.
extension ComponentRegistry {
    /// Finds the component a spec names and validates its settings. An unknown name lists the
    /// components of that kind and suggests the closest; a name of another kind says so.
    public func resolve(_ spec: ComponentSpec, kind: ComponentKind) throws -> (ComponentDescriptor, ComponentConfig) {
        let candidates = all(kind: kind).map(\.name)
        guard let d = descriptor(named: spec.name), d.kind == kind else {
            var message = "unknown \(kind.singular) '\(spec.name)'."
            if let other = descriptor(named: spec.name) {
                message = "'\(spec.name)' is \(other.kind.withArticle), not \(kind.withArticle)."
            } else {
                message += Suggestions.hint(spec.name, candidates)
            }
            message += candidates.isEmpty ? " No \(kind.plural) are loaded." : " Available \(kind.plural): " + candidates.joined(separator: ", ")
            throw SpecError(message)
        }
        return (d, try ComponentConfig(component: d.name, parameters: d.parameters, raw: spec.settings))
    }

    /// Builds the component a spec names, as `T` (one of the kind protocols).
    public func make<T>(_ spec: ComponentSpec, kind: ComponentKind, as: T.Type = T.self) throws -> T {
        let (d, config) = try resolve(spec, kind: kind)
        let instance = try d.make(config)
        guard let typed = instance as? T else {
            throw SpecError("\(d.name) from \(d.library) registered as a \(kind) but does not conform to \(T.self)")
        }
        return typed
    }

    /// An optimizer from a spec string.
    public func optimizer(_ spec: String) throws -> any Optimizer {
        try make(ComponentSpec(parsing: spec), kind: .optimizer)
    }

    /// A PEFT method from a spec string.
    public func peft(_ spec: String) throws -> any PEFTMethod {
        try make(ComponentSpec(parsing: spec), kind: .peft)
    }

    /// A search strategy from a spec string.
    public func search(_ spec: String) throws -> any SearchStrategy {
        try make(ComponentSpec(parsing: spec), kind: .search)
    }

    /// An objective from a spec string.
    public func objective(_ spec: String) throws -> any Objective {
        try make(ComponentSpec(parsing: spec), kind: .objective)
    }

    /// A reward from a spec string; `weight=` (a float, default 1) is taken off before the reward's
    /// own parameters are checked.
    public func reward(_ spec: String) throws -> WeightedReward {
        try reward(ComponentSpec(parsing: spec))
    }

    /// A reward from a parsed spec (a recipe's `rewards`), `weight=` taken off as for a string.
    public func reward(_ spec: ComponentSpec) throws -> WeightedReward {
        let (rest, rawWeight) = try spec.removing("weight")
        var weight: Float = 1
        if let rawWeight {
            let w = try ParameterSpec.float("weight", default: 1, doc: "factor of this reward in the sum")
                .parse(rawWeight, owner: rest.name)
            if case .float(let v) = w { weight = Float(v) }
        }
        let reward: any RewardScoring = try make(rest, kind: .reward)
        return WeightedReward(name: rest.name, reward: reward, weight: weight)
    }
}
