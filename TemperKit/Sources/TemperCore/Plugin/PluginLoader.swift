import Foundation

/// Loads plugin libraries into the process and registers their components in
/// `ComponentRegistry.shared`.
///
/// Swift plugins export `temper_plugin_entry`; C plugins are described by a JSON manifest and
/// called through libffi. Libraries are opened with `RTLD_NOW | RTLD_LOCAL` (missing symbols fail
/// at load, not at first call; plugins do not see each other's symbols) and never closed: a Swift
/// image cannot be unloaded safely once its metadata is registered with the runtime.
/// Every problem becomes a `PluginDiagnostic`; the remaining files still load.
public final class PluginLoader {
    /// The process-wide loader (it remembers which files are already loaded).
    public static let shared = PluginLoader()

    private let lock = NSLock()
    private var loadedFiles: Set<String> = []
    private let registry = ComponentRegistry.shared

    private init() {}

    /// Loads every candidate of `searchPath`. Files loaded before are skipped; refused files are
    /// tried again (another search path may supply the manifest a C library lacked), which repeats
    /// their diagnostic, so every listing shows it.
    public func load(_ searchPath: PluginSearchPath) -> PluginLoadReport {
        let (files, missing) = searchPath.candidates()
        var report = PluginLoadReport()
        report.diagnostics = missing
        for file in files {
            report.append(load(file: file, sourcePluginFolders: searchPath.sourcePluginFolders))
        }
        return report
    }

    /// Loads one library or manifest.
    public func load(file: String, sourcePluginFolders: [String] = []) -> PluginLoadReport {
        // Components name their library by the path as found; "loaded already" compares real files.
        let path = ((file as NSString).standardizingPath as NSString).resolvingSymlinksInPath
        let identity = PluginSearchPath.canonicalPath(file)
        lock.lock(); defer { lock.unlock() }
        var report = PluginLoadReport()
        if loadedFiles.contains(identity) { return report }
        do {
            try loadUnlocked(path: path, shownAs: file, sourcePluginFolders: sourcePluginFolders)
            loadedFiles.insert(identity)
            report.loaded.append(file)
        } catch let error as SpecError {
            report.diagnostics.append(PluginDiagnostic(file: file, reason: error.message))
        } catch {
            report.diagnostics.append(PluginDiagnostic(file: file, reason: "\(error)"))
        }
        return report
    }

    private func loadUnlocked(path: String, shownAs file: String, sourcePluginFolders: [String]) throws {
        if path.hasSuffix(".json") {
            let manifest = try CPluginManifest.load(path: path)
            try loadC(manifest)
            loadedFiles.insert(PluginSearchPath.canonicalPath(manifest.libraryPath))
            return
        }
        if let manifestPath = CPluginManifest.find(forLibrary: path, sourcePluginFolders: sourcePluginFolders) {
            try loadC(CPluginManifest.load(path: manifestPath, library: path))
            return
        }
        if (path as NSString).lastPathComponent == PluginSearchPath.hostLibraryName {
            throw SpecError("not a plugin: \(PluginSearchPath.hostLibraryName) is the host library itself (pass the plugin's own library)")
        }
        try checkELF(path)
        let handle = try open(path)
        guard let symbol = dlsym(handle, "temper_plugin_entry") else {
            throw SpecError("not a Temper plugin: no temper_plugin_entry entry point (a Swift plugin defines it with " +
                            "TemperPlugin.register; a C plugin needs a manifest <library>.json or temper-plugin.json beside it)")
        }
        let entry = unsafeBitCast(symbol, to: TemperPluginEntryFunction.self)
        try path.withCString { cPath in
            var reply = PluginEntryReply(libraryPath: cPath)
            let hostHash = TemperABI.hostInterfaceHash
            let status = hostHash.withCString { entry(TemperABI.hostVersion, $0, &reply) }
            defer { if let m = reply.message { free(m) } }
            switch status {
            case PluginEntryStatus.ok:
                let mine = UnsafeRawPointer(Unmanaged.passUnretained(registry).toOpaque())
                guard reply.registry == mine else {
                    throw SpecError("registered into its own copy of TemperCore (the core is mapped twice: the plugin " +
                                    "links TemperKit statically instead of needing libTemperKit.so)")
                }
            case PluginEntryStatus.abiMismatch:
                let theirHash = reply.interfaceHash.map {
                    String(decoding: UnsafeBufferPointer(start: $0, count: reply.interfaceHashLength), as: UTF8.self)
                } ?? "unknown"
                throw SpecError("was built for ABI v\(reply.abiVersion) (hash \(theirHash)), this temper is " +
                                "v\(TemperABI.hostVersion) (hash \(hostHash)): rebuild it against this TemperKit")
            case PluginEntryStatus.registrationFailed:
                throw SpecError("registration failed: " + (reply.message.map { String(cString: $0) } ?? "no message"))
            default:
                throw SpecError("temper_plugin_entry returned unknown status \(status)")
            }
        }
    }

    private func checkELF(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw SpecError("is a directory, not a shared library")
        }
        try ELFCheck.check(path)
    }

    private func open(_ path: String) throws -> UnsafeMutableRawPointer {
        _ = dlerror()
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let message = dlerror().map { String(cString: $0) } ?? "unknown dlopen error"
            if let range = message.range(of: "undefined symbol: ") {
                throw SpecError("missing symbol \(message[range.upperBound...]) (the library was linked against " +
                                "something this process does not provide; rebuild it) — dlopen: \(message)")
            }
            throw SpecError("cannot be loaded: \(message)")
        }
        return handle
    }

    private func loadC(_ manifest: CPluginManifest) throws {
        try checkELF(manifest.libraryPath)
        let handle = try open(manifest.libraryPath)
        var descriptors: [ComponentDescriptor] = []
        for f in manifest.functions {
            guard let address = dlsym(handle, f.symbol) else {
                throw SpecError("manifest \(manifest.path): symbol '\(f.symbol)' for component '\(f.name)' is not exported by \(manifest.libraryPath)")
            }
            let function = try FFIFunction(symbol: f.symbol, address: address, signature: f.signature)
            let name = f.name, columns = f.columns, parameters = f.parameters
            descriptors.append(ComponentDescriptor(name: f.name, kind: f.kind, summary: f.summary, parameters: f.parameters,
                                                   library: manifest.libraryPath) { config in
                try CReward(name: name, function: function, columns: columns, config: config, parameters: parameters)
            })
        }
        try registry.register(descriptors)
    }
}
