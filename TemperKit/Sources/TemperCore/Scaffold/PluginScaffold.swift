import Foundation

/// `temper new <kind> <Name>`: copies `templates/<kind>/` into `Plugins/<Name>/`, filling in names.
///
/// Placeholders, in file contents and file names: `__Name__` (the type / module name, `MyReward`),
/// `__component__` (the registered name, `my-reward`, derived from the type name unless given),
/// `__symbol__` (a C identifier, `my_reward`) and `__SYMBOL__` (the same in capitals, `MY_REWARD`:
/// the PEFT template's `peft_type`).
public enum PluginScaffold {
    /// Template kinds shipped in `templates/`.
    public static let kinds = ["optimizer", "peft", "reward", "search", "objective", "c-reward"]

    /// Creates `pluginsFolder/<name>` from `templatesFolder/<kind>` and returns the files written.
    /// `component` is the registered name (default: `componentName(for: name)`). Refuses names that
    /// are not identifiers, registered names that are not lower-case words joined by '-', unknown
    /// kinds and existing destinations; the copy is written to a temporary folder and renamed, so a
    /// failure leaves nothing half-made.
    @discardableResult
    public static func create(kind: String, name: String, component: String? = nil,
                              templatesFolder: URL, pluginsFolder: URL) throws -> [URL] {
        guard kinds.contains(kind) else {
            throw SpecError("unknown template kind '\(kind)'.\(Suggestions.hint(kind, kinds)) Kinds: \(kinds.joined(separator: ", "))")
        }
        try validate(name: name)
        let component = component ?? componentName(for: name)
        try validate(componentName: component)
        let source = templatesFolder.appendingPathComponent(kind)
        let fm = FileManager.default
        guard fm.fileExists(atPath: source.path) else { throw SpecError("template folder \(source.path) does not exist") }
        let destination = pluginsFolder.appendingPathComponent(name)
        guard !fm.fileExists(atPath: destination.path) else {
            throw SpecError("\(destination.path) already exists; refusing to overwrite it")
        }
        let symbol = component.replacingOccurrences(of: "-", with: "_")
        let substitutions = ["__Name__": name, "__component__": component, "__symbol__": symbol, "__SYMBOL__": symbol.uppercased()]
        func fill(_ s: String) -> String { substitutions.reduce(s) { $0.replacingOccurrences(of: $1.key, with: $1.value) } }

        try fm.createDirectory(at: pluginsFolder, withIntermediateDirectories: true)
        let staging = pluginsFolder.appendingPathComponent(".\(name).tmp-\(getpid())")
        try? fm.removeItem(at: staging)
        defer { try? fm.removeItem(at: staging) }
        var written: [URL] = []
        let files = (fm.enumerator(atPath: source.path)?.allObjects as? [String] ?? []).sorted()
        for relative in files {
            var isDir: ObjCBool = false
            let from = source.appendingPathComponent(relative)
            guard fm.fileExists(atPath: from.path, isDirectory: &isDir), !isDir.boolValue else { continue }
            let target = staging.appendingPathComponent(fill(relative))
            try fm.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            let text = try String(contentsOf: from, encoding: .utf8)
            try fill(text).write(to: target, atomically: false, encoding: .utf8)
            written.append(destination.appendingPathComponent(fill(relative)))
        }
        guard !written.isEmpty else { throw SpecError("template folder \(source.path) is empty") }
        try fm.moveItem(at: staging, to: destination)
        return written
    }

    /// The line of the app's Package.swift that lists the plugin folders.
    public static let stampPrefix = "// Plugin folders: "

    /// Rewrites the `// Plugin folders: ...` line of `packageFile` with the folders now in
    /// `pluginsFolder`. SwiftPM caches a manifest's evaluation by its text, so without a change to
    /// the text it would not see a new folder; returns false when the file has no such line.
    @discardableResult
    public static func refreshManifestStamp(packageFile: URL, pluginsFolder: URL) throws -> Bool {
        let text = try String(contentsOf: packageFile, encoding: .utf8)
        var lines = text.components(separatedBy: "\n")
        guard let index = lines.firstIndex(where: { $0.hasPrefix(stampPrefix) }) else { return false }
        let folders = try FileManager.default.contentsOfDirectory(atPath: pluginsFolder.path)
            .filter { !$0.hasPrefix(".") }.sorted()
        lines[index] = stampPrefix + folders.joined(separator: ", ")
        try lines.joined(separator: "\n").write(to: packageFile, atomically: true, encoding: .utf8)
        return true
    }

    /// Throws unless `name` can be a Swift module and type name (and a C identifier).
    public static func validate(name: String) throws {
        let scalars = Array(name.unicodeScalars)
        let isLetter: (Unicode.Scalar) -> Bool = { $0.isASCII && (CharacterSet.letters.contains($0) || $0 == "_") }
        let isAlnum: (Unicode.Scalar) -> Bool = { isLetter($0) || ($0.isASCII && CharacterSet.decimalDigits.contains($0)) }
        guard let first = scalars.first, isLetter(first), scalars.allSatisfy(isAlnum) else {
            throw SpecError("'\(name)' is not an identifier: use ASCII letters, digits and '_', starting with a letter (e.g. MyReward)")
        }
        let reserved: Set<String> = ["Tests", "TemperKit", "TemperCore", "TemperTensor", "TemperModels", "CFFI", "Foundation",
                                     "Swift", "XCTest", "class", "struct", "enum", "protocol", "func", "import", "public", "init"]
        guard !reserved.contains(name) else { throw SpecError("'\(name)' is reserved; choose another plugin name") }
    }

    /// Throws unless `component` can be a registered name: lower-case ASCII letters and digits in
    /// words joined by single '-', starting with a letter (`my-reward`, `radam2`).
    public static func validate(componentName component: String) throws {
        let words = component.split(separator: "-", omittingEmptySubsequences: false)
        let valid = words.allSatisfy { w in !w.isEmpty && w.unicodeScalars.allSatisfy { $0.isASCII && ("a"..."z" ~= $0 || "0"..."9" ~= $0) } }
            && component.unicodeScalars.first.map { "a"..."z" ~= $0 } == true
        guard valid else {
            throw SpecError("registered name '\(component)' must be lower-case letters and digits in words joined by '-', starting with a letter (e.g. my-reward)")
        }
    }

    /// `MyReward` → `my-reward`, `HTTPScore` → `http-score`.
    public static func componentName(for name: String) -> String { words(name).joined(separator: "-") }

    /// Lower-case words of a camel-case identifier; a run of capitals is one word (`HTTP` + `Score`).
    static func words(_ name: String) -> [String] {
        var words: [String] = []
        var current = ""
        let chars = Array(name)
        for (i, c) in chars.enumerated() {
            if c == "_" { if !current.isEmpty { words.append(current); current = "" }; continue }
            let startsWord = c.isUppercase && !current.isEmpty &&
                (!(chars[i - 1].isUppercase) || (i + 1 < chars.count && chars[i + 1].isLowercase))
            if startsWord { words.append(current); current = "" }
            current.append(c)
        }
        if !current.isEmpty { words.append(current) }
        return words.map { $0.lowercased() }
    }
}
