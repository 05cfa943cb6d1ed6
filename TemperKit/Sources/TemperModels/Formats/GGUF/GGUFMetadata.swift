/// The key–value metadata of a GGUF file, with typed accessors.
///
/// Readers (the model config, the tokenizer) ask for a key with the type they need; a missing key
/// or one of another type is an error that names the file and the key, so a file from a converter
/// that changed a type is reported rather than misread.
public struct GGUFMetadata: Sendable {
    /// Path of the file the metadata came from (used in error messages).
    public let file: String
    /// Keys in file order.
    public let keys: [String]
    /// All values by key.
    public let values: [String: GGUFValue]

    /// Metadata read from `file` (or built by hand).
    public init(file: String, keys: [String], values: [String: GGUFValue]) {
        self.file = file
        self.keys = keys
        self.values = values
    }

    /// The value of `key`, if present.
    public subscript(key: String) -> GGUFValue? { values[key] }

    /// Whether `key` is present.
    public func contains(_ key: String) -> Bool { values[key] != nil }

    private func required(_ key: String) throws -> GGUFValue {
        guard let v = values[key] else { throw ModelFormatError(file: file, "GGUF metadata key '\(key)' is missing") }
        return v
    }

    private func mismatch(_ key: String, _ v: GGUFValue, _ expected: String) -> ModelFormatError {
        ModelFormatError(file: file, "GGUF metadata key '\(key)' is \(v.typeDescription), expected \(expected)")
    }

    /// A string value.
    public func string(_ key: String) throws -> String {
        let v = try required(key)
        guard let s = v.stringValue else { throw mismatch(key, v, "a string") }
        return s
    }

    /// An integer value of any width (it must fit in `Int`).
    public func int(_ key: String) throws -> Int {
        let v = try required(key)
        guard let i = v.intValue else { throw mismatch(key, v, "an integer") }
        return i
    }

    /// A floating-point value (integers are accepted and converted).
    public func double(_ key: String) throws -> Double {
        let v = try required(key)
        guard let d = v.doubleValue else { throw mismatch(key, v, "a number") }
        return d
    }

    /// A bool value.
    public func bool(_ key: String) throws -> Bool {
        let v = try required(key)
        guard let b = v.boolValue else { throw mismatch(key, v, "a bool") }
        return b
    }

    /// An array of strings (e.g. `tokenizer.ggml.tokens`, `tokenizer.ggml.merges`).
    public func stringArray(_ key: String) throws -> [String] {
        let v = try required(key)
        guard case .array(.string, let items) = v else { throw mismatch(key, v, "an array of string") }
        return items.map { $0.stringValue! }
    }

    /// An array of integers of any width (e.g. `tokenizer.ggml.token_type`).
    public func intArray(_ key: String) throws -> [Int] {
        let v = try required(key)
        guard case .array(let t, let items) = v, t != .string, t != .array, t != .bool, t != .float32, t != .float64 else {
            throw mismatch(key, v, "an array of integers")
        }
        var out = [Int]()
        out.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let x = item.intValue else { throw ModelFormatError(file: file, "GGUF metadata key '\(key)': element \(i) does not fit in Int") }
            out.append(x)
        }
        return out
    }

    /// An array of numbers (e.g. `tokenizer.ggml.scores`); integer arrays convert.
    public func floatArray(_ key: String) throws -> [Float] {
        let v = try required(key)
        guard case .array(let t, let items) = v, t != .string, t != .array, t != .bool else {
            throw mismatch(key, v, "an array of numbers")
        }
        return items.map { Float($0.doubleValue!) }
    }

    /// The string at `key`, or nil when the key is absent (a present key of another type throws).
    public func stringIfPresent(_ key: String) throws -> String? { contains(key) ? try string(key) : nil }
    /// The integer at `key`, or nil when absent.
    public func intIfPresent(_ key: String) throws -> Int? { contains(key) ? try int(key) : nil }
    /// The number at `key`, or nil when absent.
    public func doubleIfPresent(_ key: String) throws -> Double? { contains(key) ? try double(key) : nil }
    /// The bool at `key`, or nil when absent.
    public func boolIfPresent(_ key: String) throws -> Bool? { contains(key) ? try bool(key) : nil }
    /// The string array at `key`, or nil when absent.
    public func stringArrayIfPresent(_ key: String) throws -> [String]? { contains(key) ? try stringArray(key) : nil }
    /// The integer array at `key`, or nil when absent.
    public func intArrayIfPresent(_ key: String) throws -> [Int]? { contains(key) ? try intArray(key) : nil }
    /// The number array at `key`, or nil when absent.
    public func floatArrayIfPresent(_ key: String) throws -> [Float]? { contains(key) ? try floatArray(key) : nil }

    /// Number of elements of the array at `key` without converting them, or nil when absent.
    public func arrayCount(_ key: String) throws -> Int? {
        guard let v = values[key] else { return nil }
        guard case .array(_, let items) = v else { throw mismatch(key, v, "an array") }
        return items.count
    }
}
