import Foundation

/// One registered component: what listings show and how to build it.
public struct ComponentDescriptor {
    /// Registered name.
    public let name: String
    /// Its kind.
    public let kind: ComponentKind
    /// One-line summary.
    public let summary: String
    /// Declared parameters.
    public let parameters: [ParameterSpec]
    /// Path of the library it came from ("built-in" for components registered by the host itself).
    public let library: String
    /// Builds an instance from validated settings.
    public let make: (ComponentConfig) throws -> Any
    /// The Swift type it builds (nil for C components), so the host can ask a kind's static
    /// questions without an instance: which `LoadablePEFTMethod` reads a saved adapter's `peft_type`.
    public let componentType: (any Component.Type)?

    /// A descriptor from parts (C plugins build theirs from a manifest).
    public init(name: String, kind: ComponentKind, summary: String, parameters: [ParameterSpec], library: String,
                componentType: (any Component.Type)? = nil, make: @escaping (ComponentConfig) throws -> Any) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.parameters = parameters
        self.library = library
        self.componentType = componentType
        self.make = make
    }

    /// A descriptor for a Swift component type.
    public init<C: Component>(_ type: C.Type, library: String) {
        self.init(name: C.name, kind: C.kind, summary: C.summary, parameters: C.parameters, library: library, componentType: type) {
            try C(config: $0)
        }
    }

    /// Checks the declaration itself: a usable name, no duplicate parameter names, defaults valid.
    public func validate() throws {
        let allowed = CharacterSet.lowercaseLetters.union(.decimalDigits).union(CharacterSet(charactersIn: "-_."))
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(allowed.contains) else {
            throw SpecError("component name '\(name)' in \(library) must be lower-case letters, digits, '-', '_' or '.'")
        }
        var seen = Set<String>()
        for p in parameters {
            for n in p.allNames where !seen.insert(n).inserted {
                throw SpecError("\(name) (\(library)) declares parameter '\(n)' twice")
            }
            try p.validateDefault(owner: name)
        }
    }
}

/// Collects a plugin's components inside its entry point (see `TemperPlugin.register`).
public struct PluginRegistrar {
    /// Components added so far.
    public private(set) var components: [ComponentDescriptor] = []
    /// The library being loaded.
    public let library: String

    /// A registrar for `library`.
    public init(library: String) { self.library = library }

    /// Adds a Swift component type.
    public mutating func add<C: Component>(_ type: C.Type) {
        components.append(ComponentDescriptor(type, library: library))
    }

    /// Adds a descriptor built by hand.
    public mutating func add(_ descriptor: ComponentDescriptor) {
        components.append(descriptor)
    }
}

/// Every component known to the process, by name. One instance per process: plugins link the
/// shared TemperKit library, so `shared` seen from a plugin is the host's.
public final class ComponentRegistry {
    /// The process-wide registry.
    public static let shared = ComponentRegistry()

    private let lock = NSLock()
    private var byName: [String: ComponentDescriptor] = [:]

    /// An empty registry (tests use private ones; the host uses `shared`).
    public init() {}

    /// Adds all of `components` or none: a declaration error or a name already registered (naming
    /// both libraries) throws before anything is added.
    public func register(_ components: [ComponentDescriptor]) throws {
        for c in components { try c.validate() }
        lock.lock(); defer { lock.unlock() }
        var batch: [String: ComponentDescriptor] = [:]
        for c in components {
            if let existing = byName[c.name] ?? batch[c.name] {
                throw SpecError("duplicate component name '\(c.name)': registered by \(existing.library) and again by \(c.library)")
            }
            batch[c.name] = c
        }
        byName.merge(batch) { a, _ in a }
    }

    /// The component called `name`, if any.
    public func descriptor(named name: String) -> ComponentDescriptor? {
        lock.lock(); defer { lock.unlock() }
        return byName[name]
    }

    /// All components (optionally of one kind), sorted by kind then name.
    public func all(kind: ComponentKind? = nil) -> [ComponentDescriptor] {
        lock.lock(); defer { lock.unlock() }
        let order = Dictionary(uniqueKeysWithValues: ComponentKind.allCases.enumerated().map { ($1, $0) })
        return byName.values.filter { kind == nil || $0.kind == kind }
            .sorted { (order[$0.kind]!, $0.name) < (order[$1.kind]!, $1.name) }
    }
}
