import Foundation

/// The type of a component parameter, as written in specs, recipes and `temper plugins show`.
public indirect enum ParameterType: Equatable, CustomStringConvertible, Sendable {
    case int
    case float
    case bool
    case string
    /// One of a fixed set of words (schedules, init variants, loss types).
    case choice([String])
    /// A list whose elements are all of one type (`target_modules=[q_proj,v_proj]`).
    case list(ParameterType)

    public var description: String {
        switch self {
        case .int: return "int"
        case .float: return "float"
        case .bool: return "bool"
        case .string: return "string"
        case .choice(let options): return "one of " + options.joined(separator: "|")
        case .list(let element): return "list of \(element)"
        }
    }
}

/// A parameter value after parsing and validation.
public indirect enum ParameterValue: Equatable, CustomStringConvertible, Sendable {
    case int(Int)
    case float(Double)
    case bool(Bool)
    case string(String)
    case list([ParameterValue])

    public var description: String {
        switch self {
        case .int(let v): return String(v)
        case .float(let v): return ParameterValue.format(v)
        case .bool(let v): return v ? "true" : "false"
        case .string(let v): return v
        case .list(let v): return "[" + v.map(\.description).joined(separator: ",") + "]"
        }
    }

    /// Shortest text that reads back as the same number (`0.001` rather than `0.0010000000000000002`).
    static func format(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(format: "%.1f", v) }
        return "\(v)"
    }
}

/// Bounds on a numeric parameter, each end open or closed.
public struct ParameterRange: Equatable, CustomStringConvertible, Sendable {
    /// Lower bound, or nil for none.
    public var lower: Double?
    /// Whether `lower` itself is allowed.
    public var lowerInclusive: Bool
    /// Upper bound, or nil for none.
    public var upper: Double?
    /// Whether `upper` itself is allowed.
    public var upperInclusive: Bool

    /// A range from explicit bounds.
    public init(lower: Double?, lowerInclusive: Bool = true, upper: Double?, upperInclusive: Bool = true) {
        self.lower = lower
        self.lowerInclusive = lowerInclusive
        self.upper = upper
        self.upperInclusive = upperInclusive
    }

    /// `[lo, hi]`.
    public static func closed(_ lo: Double, _ hi: Double) -> ParameterRange { .init(lower: lo, upper: hi) }
    /// `[lo, hi)` — e.g. momentum and betas, where 1 never converges.
    public static func halfOpen(_ lo: Double, _ hi: Double) -> ParameterRange { .init(lower: lo, upper: hi, upperInclusive: false) }
    /// `[lo, ∞)`.
    public static func atLeast(_ lo: Double) -> ParameterRange { .init(lower: lo, upper: nil) }
    /// `(lo, ∞)` — e.g. learning rates and epsilons, which must be positive.
    public static func greaterThan(_ lo: Double) -> ParameterRange { .init(lower: lo, lowerInclusive: false, upper: nil) }

    /// Whether `v` lies inside.
    public func contains(_ v: Double) -> Bool {
        if let lo = lower, lowerInclusive ? v < lo : v <= lo { return false }
        if let hi = upper, upperInclusive ? v > hi : v >= hi { return false }
        return true
    }

    public var description: String {
        func bound(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)" }
        let lo = lower.map(bound) ?? "-∞"
        let hi = upper.map(bound) ?? "∞"
        return (lower != nil && lowerInclusive ? "[" : "(") + lo + ", " + hi + (upper != nil && upperInclusive ? "]" : ")")
    }
}

/// One declared parameter of a component: what `temper plugins show` prints and what a spec or
/// recipe is checked against before the component ever sees a value.
public struct ParameterSpec: Equatable, Sendable {
    /// Name as written in specs (`lr`, `momentum`, `target_modules`); Hugging Face names where they exist.
    public var name: String
    /// Other accepted spellings (`learning_rate` for `lr`).
    public var aliases: [String]
    /// Value type.
    public var type: ParameterType
    /// Value used when the spec omits the key; nil makes the parameter required.
    public var defaultValue: ParameterValue?
    /// Allowed numeric interval (for `int`, `float` and lists of them).
    public var range: ParameterRange?
    /// One line saying what it does.
    public var doc: String

    /// A parameter of any type; the typed factories below are shorter.
    public init(name: String, aliases: [String] = [], type: ParameterType, default defaultValue: ParameterValue?,
                range: ParameterRange? = nil, doc: String) {
        self.name = name
        self.aliases = aliases
        self.type = type
        self.defaultValue = defaultValue
        self.range = range
        self.doc = doc
    }

    /// A floating-point parameter.
    public static func float(_ name: String, default value: Double?, range: ParameterRange? = nil,
                             aliases: [String] = [], doc: String) -> ParameterSpec {
        .init(name: name, aliases: aliases, type: .float, default: value.map(ParameterValue.float), range: range, doc: doc)
    }

    /// An integer parameter.
    public static func int(_ name: String, default value: Int?, range: ParameterRange? = nil,
                           aliases: [String] = [], doc: String) -> ParameterSpec {
        .init(name: name, aliases: aliases, type: .int, default: value.map(ParameterValue.int), range: range, doc: doc)
    }

    /// A boolean flag.
    public static func bool(_ name: String, default value: Bool?, aliases: [String] = [], doc: String) -> ParameterSpec {
        .init(name: name, aliases: aliases, type: .bool, default: value.map(ParameterValue.bool), doc: doc)
    }

    /// A free-form string.
    public static func string(_ name: String, default value: String?, aliases: [String] = [], doc: String) -> ParameterSpec {
        .init(name: name, aliases: aliases, type: .string, default: value.map(ParameterValue.string), doc: doc)
    }

    /// One word out of `choices`.
    public static func choice(_ name: String, _ choices: [String], default value: String?, aliases: [String] = [],
                              doc: String) -> ParameterSpec {
        .init(name: name, aliases: aliases, type: .choice(choices), default: value.map(ParameterValue.string), doc: doc)
    }

    /// A list of `element` values.
    public static func list(_ name: String, of element: ParameterType, default value: [ParameterValue]?,
                            range: ParameterRange? = nil, aliases: [String] = [], doc: String) -> ParameterSpec {
        .init(name: name, aliases: aliases, type: .list(element), default: value.map(ParameterValue.list), range: range, doc: doc)
    }
}
