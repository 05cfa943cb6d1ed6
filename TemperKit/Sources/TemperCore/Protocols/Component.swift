/// The five kinds of component a plugin can provide.
public enum ComponentKind: String, CaseIterable, Sendable, CustomStringConvertible {
    case optimizer, peft, reward, search, objective

    public var description: String { rawValue }

    /// Name in messages: "search strategy", "PEFT method", "reward".
    public var singular: String { self == .search ? "search strategy" : self == .peft ? "PEFT method" : rawValue }

    /// "an optimizer", "a reward".
    public var withArticle: String { (self == .optimizer || self == .objective ? "an " : "a ") + singular }

    /// Plural for listings and messages ("available rewards: ...").
    public var plural: String { singular.hasSuffix("y") ? singular.dropLast() + "ies" : singular + "s" }
}

/// What every plugin component has: a registered name, a one-line summary, declared parameters,
/// and a constructor from validated settings.
///
/// Components conform to exactly one of the kind protocols (`Optimizer`, `PEFTMethod`,
/// `RewardFunction`, `SearchStrategy`, `Objective`), which supply `kind`.
public protocol Component {
    /// The name used in specs and `temper plugins` (lower-case, hyphenated: `adamw`, `exact-match`).
    static var name: String { get }
    /// One line saying what it does.
    static var summary: String { get }
    /// Every setting it accepts, with types, defaults, ranges and docs.
    static var parameters: [ParameterSpec] { get }
    /// Which of the five kinds it is (provided by the kind protocol).
    static var kind: ComponentKind { get }
    /// Builds the component from settings already checked against `parameters`.
    init(config: ComponentConfig) throws
}
