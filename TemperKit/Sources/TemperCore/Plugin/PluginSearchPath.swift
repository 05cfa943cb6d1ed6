import Foundation

/// Where plugins are looked for, and which files in those places are candidates.
///
/// - the folder of the running executable (the build folder): only `libTemperPlugin*.so`, since
///   it also holds TemperKit and other libraries;
/// - every folder in `$TEMPER_PLUGIN_PATH` (colon-separated): every `*.so` and C manifest, except
///   `libTemperKit.so` (a package's build folder holds the host library itself: not a plugin);
/// - each `--plugin PATH`: a library, a manifest, or a folder searched like the above.
public struct PluginSearchPath {
    /// Folders whose `libTemperPlugin*.so` are loaded.
    public var buildFolders: [String]
    /// Folders whose every `*.so` and manifest is loaded.
    public var pluginFolders: [String]
    /// Single files (libraries or manifests).
    public var files: [String]
    /// `Plugins/` source folders consulted for the manifest of a C plugin built into the build
    /// folder (`libTemperPlugin<X>.so` → `<folder>/<X>/temper-plugin.json`).
    public var sourcePluginFolders: [String]

    /// The host library's file name, skipped in plugin folders.
    public static let hostLibraryName = "libTemperKit.so"

    /// A search path from explicit parts.
    public init(buildFolders: [String] = [], pluginFolders: [String] = [], files: [String] = [], sourcePluginFolders: [String] = []) {
        self.buildFolders = buildFolders
        self.pluginFolders = pluginFolders
        self.files = files
        self.sourcePluginFolders = sourcePluginFolders
    }

    /// The standard search path: the executable's folder, `$TEMPER_PLUGIN_PATH`, then `extra`
    /// (`--plugin` values: files or folders).
    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment,
                                extra: [String] = [], sourcePluginFolders: [String] = []) -> PluginSearchPath {
        var path = PluginSearchPath(sourcePluginFolders: sourcePluginFolders)
        if let exe = executableDirectory() { path.buildFolders.append(exe) }
        for folder in (environment["TEMPER_PLUGIN_PATH"] ?? "").split(separator: ":") where !folder.isEmpty {
            path.pluginFolders.append(String(folder))
        }
        for item in extra {
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: item, isDirectory: &isDir), isDir.boolValue {
                path.pluginFolders.append(item)
            } else {
                path.files.append(item)
            }
        }
        return path
    }

    /// The folder of the running executable (`/proc/self/exe`), symlinks resolved.
    public static func executableDirectory() -> String? {
        guard let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return (exe as NSString).deletingLastPathComponent
    }

    /// Candidate files in search order, without duplicates. Missing folders are diagnostics only
    /// when the user named them (`--plugin`, `$TEMPER_PLUGIN_PATH`).
    func candidates() -> (files: [String], diagnostics: [PluginDiagnostic]) {
        var out: [String] = []
        var diagnostics: [PluginDiagnostic] = []
        let fm = FileManager.default
        func list(_ folder: String) -> [String]? {
            (try? fm.contentsOfDirectory(atPath: folder))?.sorted().map { (folder as NSString).appendingPathComponent($0) }
        }
        for folder in buildFolders {
            out += (list(folder) ?? []).filter {
                let name = ($0 as NSString).lastPathComponent
                return name.hasPrefix("libTemperPlugin") && name.hasSuffix(".so")
            }
        }
        for folder in pluginFolders {
            guard let entries = list(folder) else {
                diagnostics.append(PluginDiagnostic(file: folder, reason: "plugin folder does not exist or cannot be read"))
                continue
            }
            // A library described by a manifest in the folder is loaded through that manifest.
            // (`x.json` describes `x.so` even when it is broken: its error is reported once, for the manifest.)
            let manifests = entries.filter { $0.hasSuffix(".json") && CPluginManifest.looksLikeManifest(atPath: $0) }
            let described = Set(manifests.compactMap { m -> String? in
                if (m as NSString).lastPathComponent != "temper-plugin.json" { return (m as NSString).deletingPathExtension + ".so" }
                return try? CPluginManifest.load(path: m).libraryPath
            })
            out += manifests
            out += entries.filter {
                $0.hasSuffix(".so") && !described.contains($0) && ($0 as NSString).lastPathComponent != Self.hostLibraryName
            }
        }
        for file in files {
            if fm.fileExists(atPath: file) { out.append(file) } else {
                diagnostics.append(PluginDiagnostic(file: file, reason: "no such file or folder"))
            }
        }
        var seen = Set<String>()
        return (out.filter { seen.insert(Self.canonicalPath($0)).inserted }, diagnostics)
    }

    /// `file` with every symlink resolved, in the middle of the path too (`realpath`), so one
    /// library reached through two paths — SwiftPM's `.build/release` is a link to
    /// `.build/<triple>/release`, the folder `temper` runs from — is loaded once, not refused as a
    /// duplicate. Foundation's `resolvingSymlinksInPath` leaves such a link in place on Linux.
    static func canonicalPath(_ file: String) -> String {
        guard let resolved = realpath(file, nil) else { return (file as NSString).standardizingPath }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
