import Foundation

/// A component named on the command line or in a recipe: `name` or `name:key=value,key=[a,b]`.
/// A value that starts with `"` or `'` runs to the matching quote and is taken literally, so it
/// may hold commas and brackets (`format:pattern="^\\d{1,3}(,\\d{3})*$"`).
public struct ComponentSpec: Equatable, CustomStringConvertible, Sendable {
    /// The component's registered name.
    public var name: String
    /// Settings in the order written, values not yet validated.
    public var settings: [(key: String, value: RawParameterValue)]

    /// A spec from parts.
    public init(name: String, settings: [(key: String, value: RawParameterValue)] = []) {
        self.name = name
        self.settings = settings
    }

    /// Parses `name[:key=value,...]`. Commas inside `[...]` separate list items, not settings.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let colon = trimmed.firstIndex(of: ":")
        let name = String(colon.map { trimmed[..<$0] } ?? trimmed[...]).trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw SpecError("component spec '\(text)' has no name (expected name or name:key=value,...)") }
        var settings: [(key: String, value: RawParameterValue)] = []
        if let colon {
            let body = trimmed[trimmed.index(after: colon)...]
            for item in try Self.splitTopLevel(body, spec: text) {
                guard let eq = item.firstIndex(of: "=") else {
                    throw SpecError("\(name): setting '\(item)' in '\(text)' is not key=value")
                }
                let key = item[..<eq].trimmingCharacters(in: .whitespaces)
                let valueText = item[item.index(after: eq)...].trimmingCharacters(in: .whitespaces)
                guard !key.isEmpty else { throw SpecError("\(name): setting '\(item)' in '\(text)' has no key") }
                guard !valueText.isEmpty else { throw SpecError("\(name): \(key) has no value in '\(text)'") }
                settings.append((key, try Self.value(valueText, spec: text)))
            }
        }
        self.init(name: name, settings: settings)
    }

    /// Splits on commas outside brackets and quotes; rejects unbalanced brackets and quotes and empty items.
    private static func splitTopLevel(_ s: Substring, spec: String) throws -> [String] {
        var items: [String] = []
        var current = ""
        var depth = 0
        var quote: Character? = nil
        for ch in s {
            if let q = quote {
                current.append(ch)
                if ch == q { quote = nil }
                continue
            }
            // A quote opens only where a value or list item starts (blanks aside).
            let last = current.last(where: { $0 != " " })
            if (ch == "\"" || ch == "'") && (last == nil || last == "=" || last == "[" || last == ",") {
                quote = ch
                current.append(ch)
                continue
            }
            switch ch {
            case "[": depth += 1; current.append(ch)
            case "]":
                depth -= 1
                if depth < 0 { throw SpecError("unbalanced ']' in '\(spec)'") }
                current.append(ch)
            case "," where depth == 0:
                items.append(current); current = ""
            default: current.append(ch)
            }
        }
        if depth != 0 { throw SpecError("unclosed '[' in '\(spec)'") }
        if let q = quote { throw SpecError("unclosed \(q) in '\(spec)'") }
        items.append(current)
        let cleaned = items.map { $0.trimmingCharacters(in: .whitespaces) }
        if cleaned.contains(where: \.isEmpty) { throw SpecError("empty setting in '\(spec)' (stray comma?)") }
        return cleaned
    }

    private static func value(_ text: String, spec: String) throws -> RawParameterValue {
        if let q = text.first, q == "\"" || q == "'" {
            guard text.count >= 2, text.last == q else { throw SpecError("quoted value \(text) in '\(spec)' has text after its closing quote") }
            return .text(String(text.dropFirst().dropLast()))
        }
        guard text.hasPrefix("[") else { return .text(text) }
        guard text.hasSuffix("]") else { throw SpecError("list value '\(text)' in '\(spec)' does not end with ']'") }
        let inner = text.dropFirst().dropLast()
        if inner.trimmingCharacters(in: .whitespaces).isEmpty { return .list([]) }
        return .list(try splitTopLevel(inner, spec: spec).map { try value($0, spec: spec) })
    }

    /// The spec with `key` removed, and that key's value if present (used for `weight=` on rewards).
    public func removing(_ key: String) -> (ComponentSpec, RawParameterValue?) {
        var copy = self
        let found = settings.first { $0.key == key }?.value
        copy.settings.removeAll { $0.key == key }
        return (copy, found)
    }

    public var description: String {
        settings.isEmpty ? name : name + ":" + settings.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    public static func == (a: ComponentSpec, b: ComponentSpec) -> Bool {
        a.name == b.name && a.settings.map(\.key) == b.settings.map(\.key) && a.settings.map(\.value) == b.settings.map(\.value)
    }
}
