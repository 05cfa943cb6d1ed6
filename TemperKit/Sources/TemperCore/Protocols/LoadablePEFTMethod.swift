/// A PEFT method whose saved adapters can be loaded again (to resume, evaluate, or merge with
/// `temper merge`). It declares the PEFT `peft_type` values it reads and turns an
/// `adapter_config.json` into its own settings, so the host finds the method for a saved adapter
/// through the registry: a new PEFT plugin's adapters reload without a change to the host.
public protocol LoadablePEFTMethod: PEFTMethod {
    /// The `peft_type` values of `adapter_config.json` this method reads (`["LORA"]`); the method's
    /// `export()` writes one of them.
    static var peftTypes: [String] { get }
    /// The settings, under this method's parameter names, that rebuild the adapter `config`
    /// describes (random initialisation is fine: the saved weights replace it). nil when the
    /// config, though of one of `peftTypes`, belongs to a sibling method (a `LORA` config with
    /// `use_dora: true` is DoRA's). Throws, naming the file and field, for PEFT settings the method
    /// cannot honour, rather than rebuilding a silently different adapter.
    static func settings(from config: PEFTAdapterConfig) throws -> [(key: String, value: RawParameterValue)]?
    /// Copies `adapter.tensors` into the adapters `apply` installed; throws naming a key that is
    /// missing, mis-shaped or matches no installed adapter.
    func load(_ adapter: AdapterExport) throws
}

/// An `adapter_config.json` as a `LoadablePEFTMethod` reads it: the fields, the file they came
/// from (for messages), and the conversions every method needs.
public struct PEFTAdapterConfig {
    /// The JSON fields.
    public let fields: [String: ColumnValue]
    /// The file, named in errors.
    public let source: String

    /// A config from its fields and the file they were read from.
    public init(fields: [String: ColumnValue], source: String) {
        self.fields = fields
        self.source = source
    }

    /// The `peft_type` field; throws naming the file when it is missing or not a string.
    public func peftType() throws -> String {
        guard case .string(let type)? = fields["peft_type"] else {
            throw SpecError("\(source): missing the string field 'peft_type'")
        }
        return type
    }

    /// The field `key` as a spec value (what `name:key=value` would give), nil when absent or null.
    public func value(_ key: String) -> RawParameterValue? {
        switch fields[key] {
        case .string(let s)?: return .text(s)
        case .number(let d)?: return .text(ColumnValue.number(d).json)
        case .bool(let b)?: return .text(b ? "true" : "false")
        case .array(let items)?: return .list(items.map { .text($0.text) })
        default: return nil
        }
    }

    /// The present fields among `keys`, as settings under the same names.
    public func settings(_ keys: [String]) -> [(key: String, value: RawParameterValue)] {
        keys.compactMap { key in value(key).map { (key, $0) } }
    }

    /// Throws for the first of `keys` set to anything but PEFT's "off" value (absent, null, empty,
    /// `"none"`, `false`): settings the method cannot honour.
    public func rejectSet(_ keys: [String]) throws {
        for key in keys {
            switch fields[key] {
            case nil, .null?, .bool(false)?: continue
            case .object(let o)? where o.isEmpty: continue
            case .array(let a)? where a.isEmpty: continue
            case .string(let s)? where s == "none": continue
            case let value?: throw SpecError("\(source): '\(key)' = \(value.json) is not supported by Temper")
            }
        }
    }
}
