import Foundation

/// A parameter value as the user wrote it, before it is checked against a `ParameterSpec`.
public indirect enum RawParameterValue: Equatable, CustomStringConvertible, Sendable {
    /// A single word or number, as text.
    case text(String)
    /// A bracketed list (`[q_proj,v_proj]`) or a YAML sequence.
    case list([RawParameterValue])

    public var description: String {
        switch self {
        case .text(let s): return s
        case .list(let items): return "[" + items.map(\.description).joined(separator: ",") + "]"
        }
    }
}

extension ParameterSpec {
    /// Every spelling accepted for this parameter.
    public var allNames: [String] { [name] + aliases }

    /// What the value must look like, for error messages (`a float in (0, ∞)`).
    public var expectation: String {
        var s: String
        switch type {
        case .int: s = "an int"
        case .float: s = "a float"
        case .bool: s = "a bool (true/false)"
        case .string: s = "a string"
        case .choice(let options): s = "one of " + options.joined(separator: ", ")
        case .list(let element): s = "a list of \(element) ([a,b,...])"
        }
        if let range { s += " in \(range)" }
        return s
    }

    /// Parses and checks `raw`; `owner` names the component in the message (`sgd: momentum ...`).
    public func parse(_ raw: RawParameterValue, owner: String) throws -> ParameterValue {
        let value: ParameterValue
        switch type {
        case .list(let element):
            let items: [RawParameterValue]
            if case .list(let l) = raw { items = l } else { items = [raw] }
            value = .list(try items.map { try Self.scalar($0, as: element, range: range, key: name, owner: owner, expectation: expectation) })
        default:
            value = try Self.scalar(raw, as: type, range: range, key: name, owner: owner, expectation: expectation)
        }
        return value
    }

    /// Checks that a default declared by a component satisfies its own type and range, so a
    /// broken component is refused at registration rather than when a user runs it.
    func validateDefault(owner: String) throws {
        guard let d = defaultValue else { return }
        _ = try parse(Self.raw(d), owner: owner)
    }

    /// The raw form of a typed value (for re-validating defaults).
    static func raw(_ v: ParameterValue) -> RawParameterValue {
        if case .list(let items) = v { return .list(items.map(raw)) }
        return .text(v.description)
    }

    private static func scalar(_ raw: RawParameterValue, as type: ParameterType, range: ParameterRange?, key: String,
                               owner: String, expectation: String) throws -> ParameterValue {
        guard case .text(let text) = raw else {
            throw SpecError("\(owner): \(key) expects \(expectation), got the list \(raw)")
        }
        let t = text.trimmingCharacters(in: .whitespaces)
        func wrong() -> SpecError { SpecError("\(owner): \(key) expects \(expectation), got '\(t)'") }
        func checkRange(_ v: Double) throws {
            if let range, !range.contains(v) { throw SpecError("\(owner): \(key)=\(t) is out of range \(range)") }
        }
        switch type {
        case .int:
            guard let v = Int(t) else { throw wrong() }
            try checkRange(Double(v))
            return .int(v)
        case .float:
            guard let v = Double(t), v.isFinite else { throw wrong() }
            try checkRange(v)
            return .float(v)
        case .bool:
            switch t.lowercased() {
            case "true", "yes", "1", "on": return .bool(true)
            case "false", "no", "0", "off": return .bool(false)
            default: throw wrong()
            }
        case .string:
            return .string(t)
        case .choice(let options):
            guard options.contains(t) else {
                throw SpecError("\(owner): \(key) must be one of \(options.joined(separator: ", ")), got '\(t)'."
                                + Suggestions.hint(t, options))
            }
            return .string(t)
        case .list:
            throw SpecError("\(owner): \(key) declares a list of lists, which specs cannot express")
        }
    }
}
