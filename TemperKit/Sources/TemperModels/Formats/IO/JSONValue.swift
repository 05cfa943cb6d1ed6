import Foundation

/// A parsed JSON value that keeps booleans, integers and fractions apart.
///
/// Foundation's `JSONSerialization` hands back `NSNumber`s that cast to `Bool`, `Int` and `Double`
/// interchangeably on Linux (`1` reads as `true`), which would let a malformed header or config slip
/// through. Decoding through this enum keeps each JSON type distinct.
public enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Decodes whichever JSON type is present, trying the strictest reading first.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    /// Parses `data`; a syntax error becomes a `ModelFormatError` about `source`.
    public static func parse(_ data: Data, source: String, what: String = "JSON") throws -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ModelFormatError(file: source, "\(what) is not valid JSON")
        }
    }

    /// The integer, for an integer value.
    public var intValue: Int? { if case .int(let i) = self { return i }; return nil }
    /// The number, for an integer or fractional value.
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    /// The string, for a string value.
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    /// The flag, for a boolean value.
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    /// The elements, for an array.
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    /// The members, for an object.
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }

    /// A compact rendering for error messages.
    var summary: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .int(let i): return "\(i)"
        case .double(let d): return "\(d)"
        case .string(let s): return "\"\(s)\""
        case .array(let a): return "an array of \(a.count)"
        case .object: return "an object"
        }
    }
}

extension JSONValue {
    /// What kind of value this is, for "expected …, got …" messages ("a string", "the number 3").
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .int(let i): return "the number \(i)"
        case .double(let d): return "the number \(d)"
        case .string: return "a string"
        case .array(let a): return "a list of \(a.count)"
        case .object: return "an object"
        }
    }
}
