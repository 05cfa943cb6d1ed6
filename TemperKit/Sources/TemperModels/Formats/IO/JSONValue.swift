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

    /// The first member name that occurs twice in the top-level object of `data` (already known to
    /// be valid JSON), or nil. Decoders keep one of the two values silently; a format whose member
    /// names identify data (safetensors tensors) must refuse the file instead.
    public static func firstDuplicateTopLevelKey(in data: Data) -> String? {
        let bytes = [UInt8](data)
        var seen = Set<String>()
        var depth = 0, i = 0
        var expectingKey = false
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"):
                depth += 1
                if depth == 1 { expectingKey = true }
            case UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ","): if depth == 1 { expectingKey = true }
            case UInt8(ascii: "\""):
                let start = i
                i += 1
                while i < bytes.count && bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                if depth == 1 && expectingKey && i < bytes.count {
                    let literal = Data(bytes[start...i])
                    let key = (try? JSONDecoder().decode(String.self, from: literal)) ?? String(decoding: literal, as: UTF8.self)
                    if !seen.insert(key).inserted { return key }
                    expectingKey = false
                }
            default: break
            }
            i += 1
        }
        return nil
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
