/// The validated settings a component is built from: every declared parameter, filled with the
/// user's value or its default. Components read them in `init(config:)`.
public struct ComponentConfig: Equatable, CustomStringConvertible, Sendable {
    /// Name of the component these settings are for (used in messages).
    public let component: String
    /// Values by canonical parameter name.
    public let values: [String: ParameterValue]

    /// Settings from already-validated values (tests and hosts that build configs in code).
    public init(component: String, values: [String: ParameterValue]) {
        self.component = component
        self.values = values
    }

    /// Checks `raw` (key → value as written) against `parameters`: unknown keys, wrong types, values
    /// out of range and missing required parameters are errors naming the key; aliases map to the
    /// canonical name; omitted keys take their defaults.
    public init(component: String, parameters: [ParameterSpec], raw: [(key: String, value: RawParameterValue)]) throws {
        var values: [String: ParameterValue] = [:]
        var byName: [String: ParameterSpec] = [:]
        for p in parameters { for n in p.allNames { byName[n] = p } }
        for (key, rawValue) in raw {
            guard let spec = byName[key] else {
                let names = parameters.map(\.name)
                let list = names.isEmpty ? "it takes no parameters" : "parameters: " + names.joined(separator: ", ")
                throw SpecError("\(component): unknown parameter '\(key)'.\(Suggestions.hint(key, parameters.flatMap(\.allNames))) (\(list))")
            }
            if values[spec.name] != nil { throw SpecError("\(component): \(spec.name) is given twice") }
            values[spec.name] = try spec.parse(rawValue, owner: component)
        }
        for p in parameters where values[p.name] == nil {
            guard let d = p.defaultValue else {
                throw SpecError("\(component): missing required parameter '\(p.name)' (\(p.expectation)): \(p.doc)")
            }
            values[p.name] = d
        }
        self.init(component: component, values: values)
    }

    /// Settings holding every default of `parameters` (throws if one is required).
    public init(component: String, defaultsOf parameters: [ParameterSpec]) throws {
        try self.init(component: component, parameters: parameters, raw: [])
    }

    private func value(_ name: String) throws -> ParameterValue {
        guard let v = values[name] else {
            throw SpecError("\(component): reads parameter '\(name)', which it does not declare")
        }
        return v
    }

    private func mismatch(_ name: String, _ wanted: String) -> SpecError {
        SpecError("\(component): parameter '\(name)' is declared with another type than the \(wanted) it is read as")
    }

    /// A `float` (or `int`) parameter as Double.
    public func double(_ name: String) throws -> Double {
        switch try value(name) {
        case .float(let v): return v
        case .int(let v): return Double(v)
        default: throw mismatch(name, "float")
        }
    }

    /// A `float` parameter as Float (the tensor runtime's precision).
    public func float(_ name: String) throws -> Float { Float(try double(name)) }

    /// An `int` parameter.
    public func int(_ name: String) throws -> Int {
        guard case .int(let v) = try value(name) else { throw mismatch(name, "int") }
        return v
    }

    /// A `bool` parameter.
    public func bool(_ name: String) throws -> Bool {
        guard case .bool(let v) = try value(name) else { throw mismatch(name, "bool") }
        return v
    }

    /// A `string` or `choice` parameter.
    public func string(_ name: String) throws -> String {
        guard case .string(let v) = try value(name) else { throw mismatch(name, "string") }
        return v
    }

    /// A list of strings (or choices).
    public func strings(_ name: String) throws -> [String] {
        guard case .list(let items) = try value(name) else { throw mismatch(name, "list") }
        return try items.map { item in
            guard case .string(let s) = item else { throw mismatch(name, "list of strings") }
            return s
        }
    }

    /// A list of floats (ints widen).
    public func doubles(_ name: String) throws -> [Double] {
        guard case .list(let items) = try value(name) else { throw mismatch(name, "list") }
        return try items.map { item in
            switch item {
            case .float(let v): return v
            case .int(let v): return Double(v)
            default: throw mismatch(name, "list of floats")
            }
        }
    }

    public var description: String {
        component + ":" + values.keys.sorted().map { "\($0)=\(values[$0]!)" }.joined(separator: ",")
    }
}
