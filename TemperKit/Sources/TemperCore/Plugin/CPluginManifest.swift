import Foundation

/// The C signatures a C reward may have. The host passes the columns the manifest asks for, in
/// that order, as C strings (string cells as their text, other cells as JSON, missing cells NULL),
/// and numeric parameters as doubles in declared order. A NaN result means "not applicable" (nil).
public enum CRewardSignature: String, CaseIterable, Sendable {
    /// `double f(const char *prompt, const char *completion, const char *const *columns)`
    case text = "double(const char*,const char*,const char*const*)"
    /// `double f(const char *prompt, const char *completion, const int32_t *completion_ids,
    /// int64_t n_ids, const char *const *columns, const double *params)`
    case full = "double(const char*,const char*,const int32_t*,int64_t,const char*const*,const double*)"

    /// Reads a C prototype, ignoring whitespace, the function name and parameter names.
    public init?(declaration: String) {
        guard let open = declaration.firstIndex(of: "("), declaration.hasSuffix(")") else { return nil }
        let typeWords: Set<String> = ["const", "char", "double", "float", "int32_t", "int64_t", "void", "*"]
        func canonical(_ part: Substring) -> String {
            var words = part.replacingOccurrences(of: "*", with: " * ").split(separator: " ").map(String.init)
            if let last = words.last, !typeWords.contains(last) { words.removeLast() }
            // Join words with one space, but none around '*', to match the raw values above.
            var s = ""
            for w in words {
                if w == "*" || s.isEmpty || s.hasSuffix("*") { s += w } else { s += " " + w }
            }
            return s
        }
        let ret = canonical(declaration[..<open])
        let params = declaration[declaration.index(after: open)..<declaration.index(before: declaration.endIndex)]
            .split(separator: ",", omittingEmptySubsequences: false).map(canonical)
        self.init(rawValue: ret + "(" + params.joined(separator: ",") + ")")
    }
}

/// A C plugin's manifest: which exported functions are components, and how to call them.
///
/// Found as `<library>.json` beside `<library>.so`, as `temper-plugin.json` in the library's folder,
/// or (for C plugins built from `Plugins/<X>/` into the build folder) as `Plugins/<X>/temper-plugin.json`.
///
///     { "library": "libexact.so",
///       "components": [ { "kind": "reward", "name": "c-exact-match", "summary": "...",
///                         "symbol": "exact_match", "signature": "double(const char *prompt, ...)",
///                         "columns": ["answer"],
///                         "parameters": [ {"name": "ignore_case", "type": "bool", "default": true, "doc": "..."} ] } ] }
public struct CPluginManifest {
    /// One exported function.
    public struct Function {
        /// Component kind (only `reward` is supported for C).
        public var kind: ComponentKind
        /// Registered name.
        public var name: String
        /// One-line summary.
        public var summary: String
        /// Exported symbol.
        public var symbol: String
        /// Its C signature.
        public var signature: CRewardSignature
        /// Dataset columns passed to it, in order.
        public var columns: [String]
        /// Numeric parameters, passed as doubles in this order.
        public var parameters: [ParameterSpec]
    }

    /// Path of the manifest.
    public var path: String
    /// Absolute path of the library it describes.
    public var libraryPath: String
    /// The functions it exports as components.
    public var functions: [Function]

    /// Whether a JSON file is meant as a manifest (by name, or by holding a `components` list).
    static func looksLikeManifest(atPath path: String) -> Bool {
        if (path as NSString).lastPathComponent == "temper-plugin.json" { return true }
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return object["components"] != nil
    }

    /// The manifest describing the library at `libraryPath`, if one exists.
    static func find(forLibrary libraryPath: String, sourcePluginFolders: [String]) -> String? {
        let fm = FileManager.default
        let dir = (libraryPath as NSString).deletingLastPathComponent
        let file = (libraryPath as NSString).lastPathComponent
        let sibling = (dir as NSString).appendingPathComponent((file as NSString).deletingPathExtension + ".json")
        if fm.fileExists(atPath: sibling) { return sibling }
        let shared = (dir as NSString).appendingPathComponent("temper-plugin.json")
        if fm.fileExists(atPath: shared), let m = try? load(path: shared), m.libraryPath == libraryPath { return shared }
        if file.hasPrefix("libTemperPlugin"), file.hasSuffix(".so") {
            let folder = String(file.dropFirst("libTemperPlugin".count).dropLast(3))
            for root in sourcePluginFolders {
                let candidate = ((root as NSString).appendingPathComponent(folder) as NSString).appendingPathComponent("temper-plugin.json")
                if fm.fileExists(atPath: candidate) { return candidate }
            }
        }
        return nil
    }

    /// Reads and checks a manifest. `library` overrides the manifest's own `library` field (used
    /// when the manifest lives in the source tree and the library in the build folder).
    public static func load(path: String, library: String? = nil) throws -> CPluginManifest {
        func fail(_ what: String) -> SpecError { SpecError("manifest \(path): \(what)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("cannot be read") }
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { throw fail("is not a JSON object") }
            root = object
        } catch let e as SpecError { throw e } catch { throw fail("is not valid JSON (\(error.localizedDescription))") }
        let known: Set<String> = ["library", "components"]
        if let extra = root.keys.first(where: { !known.contains($0) }) {
            throw fail("unknown field '\(extra)'.\(Suggestions.hint(extra, Array(known))) (fields: library, components)")
        }
        let dir = (path as NSString).deletingLastPathComponent
        let libraryPath: String
        if let library { libraryPath = library } else if let name = root["library"] as? String {
            libraryPath = name.hasPrefix("/") ? name : (dir as NSString).appendingPathComponent(name)
        } else if (path as NSString).lastPathComponent != "temper-plugin.json" {
            libraryPath = (path as NSString).deletingPathExtension + ".so"
        } else {
            throw fail("needs a \"library\" field naming the shared library")
        }
        guard let components = root["components"] as? [[String: Any]], !components.isEmpty else {
            throw fail("needs a non-empty \"components\" list")
        }
        let functions = try components.enumerated().map { i, c in try function(c, at: "components[\(i)]", fail: fail) }
        return CPluginManifest(path: path, libraryPath: libraryPath, functions: functions)
    }

    private static func function(_ c: [String: Any], at where_: String, fail: (String) -> SpecError) throws -> Function {
        let known = ["kind", "name", "summary", "symbol", "signature", "columns", "parameters"]
        if let extra = c.keys.first(where: { !known.contains($0) }) {
            throw fail("\(where_): unknown field '\(extra)'.\(Suggestions.hint(extra, known)) (fields: \(known.joined(separator: ", ")))")
        }
        func string(_ key: String) throws -> String {
            guard let s = c[key] as? String, !s.isEmpty else { throw fail("\(where_).\(key) must be a non-empty string") }
            return s
        }
        let kindText = try string("kind")
        guard kindText == ComponentKind.reward.rawValue else {
            throw fail("\(where_).kind is '\(kindText)'; C plugins can provide: reward")
        }
        let declaration = try string("signature")
        guard let signature = CRewardSignature(declaration: declaration) else {
            throw fail("\(where_).signature '\(declaration)' is not supported; use one of: " +
                       CRewardSignature.allCases.map(\.rawValue).joined(separator: " | "))
        }
        let columns = c["columns"] as? [String] ?? []
        if c["columns"] != nil, c["columns"] as? [String] == nil { throw fail("\(where_).columns must be a list of strings") }
        let rawParams = c["parameters"] as? [[String: Any]] ?? []
        if c["parameters"] != nil, c["parameters"] as? [[String: Any]] == nil { throw fail("\(where_).parameters must be a list of objects") }
        let params = try rawParams.enumerated().map { j, p in try parameter(p, at: "\(where_).parameters[\(j)]", fail: fail) }
        if signature == .text, !params.isEmpty {
            throw fail("\(where_) declares parameters, but signature \(signature.rawValue) cannot receive them; use \(CRewardSignature.full.rawValue)")
        }
        return Function(kind: .reward, name: try string("name"), summary: (c["summary"] as? String) ?? "",
                        symbol: try string("symbol"), signature: signature, columns: columns, parameters: params)
    }

    private static func parameter(_ p: [String: Any], at where_: String, fail: (String) -> SpecError) throws -> ParameterSpec {
        let known = ["name", "type", "default", "min", "max", "doc"]
        if let extra = p.keys.first(where: { !known.contains($0) }) {
            throw fail("\(where_): unknown field '\(extra)'.\(Suggestions.hint(extra, known))")
        }
        guard let name = p["name"] as? String, !name.isEmpty else { throw fail("\(where_).name must be a non-empty string") }
        let type: ParameterType
        switch p["type"] as? String {
        case "int": type = .int
        case "float": type = .float
        case "bool": type = .bool
        default: throw fail("\(where_).type must be int, float or bool (C rewards receive parameters as doubles)")
        }
        let lower = p["min"] as? Double, upper = p["max"] as? Double
        let range = lower == nil && upper == nil ? nil : ParameterRange(lower: lower, upper: upper)
        var defaultValue: ParameterValue?
        if let d = p["default"] {
            let raw: RawParameterValue
            if type == .bool, let b = d as? Bool {
                raw = .text(b ? "true" : "false")
            } else if type != .bool, let n = d as? NSNumber {
                raw = .text(type == .int ? String(n.intValue) : String(n.doubleValue))
            } else { throw fail("\(where_).default must be a \(type)") }
            let spec = ParameterSpec(name: name, type: type, default: nil, range: range, doc: "")
            defaultValue = try spec.parse(raw, owner: where_)
        }
        return ParameterSpec(name: name, type: type, default: defaultValue, range: range, doc: (p["doc"] as? String) ?? "")
    }
}
