import Foundation

/// The C signature every plugin library exports as `temper_plugin_entry`:
/// `int32_t temper_plugin_entry(uint32_t host_abi_version, const char *host_interface_hash, void *reply)`.
public typealias TemperPluginEntryFunction = @convention(c) (UInt32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32

/// What the entry point writes back to the host.
///
/// Its layout is frozen across ABI versions (only fixed-size fields, never reordered): the host
/// reads it from plugins built against another revision to say which one they expect.
public struct PluginEntryReply {
    /// Set by the host: the library's path, for registrations and messages.
    public var libraryPath: UnsafePointer<CChar>?
    /// Set by the plugin: the ABI version it was built for.
    public var abiVersion: UInt32 = 0
    /// Set by the plugin: its interface hash (UTF-8, `interfaceHashLength` bytes, static storage).
    public var interfaceHash: UnsafePointer<UInt8>?
    /// Length of `interfaceHash`.
    public var interfaceHashLength: Int = 0
    /// Set by the plugin: the address of `ComponentRegistry.shared` as the plugin sees it.
    public var registry: UnsafeRawPointer?
    /// Set by the plugin on failure: a malloc'd message the host frees.
    public var message: UnsafeMutablePointer<CChar>?

    /// A reply with nothing filled in yet.
    public init(libraryPath: UnsafePointer<CChar>?) { self.libraryPath = libraryPath }
}

/// Status codes returned by `temper_plugin_entry`.
public enum PluginEntryStatus {
    /// Components registered.
    public static let ok: Int32 = 0
    /// The plugin was built for another ABI; `abiVersion` / `interfaceHash` say which.
    public static let abiMismatch: Int32 = 1
    /// The plugin's registration threw; `message` says why.
    public static let registrationFailed: Int32 = 2
    /// The host passed no reply buffer.
    public static let badCall: Int32 = 3
}

/// The plugin side of loading.
public enum TemperPlugin {
    /// Implements a plugin's entry point. Write it as
    ///
    ///     @_cdecl("temper_plugin_entry")
    ///     public func temperPluginEntry(_ abi: UInt32, _ hash: UnsafePointer<CChar>?, _ reply: UnsafeMutableRawPointer?) -> Int32 {
    ///         TemperPlugin.register(abi, hash, reply) { r in r.add(SGD.self); r.add(AdamW.self) }
    ///     }
    ///
    /// Emitted into the plugin (`@_alwaysEmitIntoClient`, unlike `@inlinable`, holds in debug
    /// builds too), so the version check compares the host's values with the ones the plugin was
    /// compiled against, before any other TemperCore type is touched.
    @_alwaysEmitIntoClient
    public static func register(_ hostVersion: UInt32, _ hostHash: UnsafePointer<CChar>?, _ reply: UnsafeMutableRawPointer?,
                                _ body: (inout PluginRegistrar) throws -> Void) -> Int32 {
        guard let reply else { return PluginEntryStatus.badCall }
        let out = reply.assumingMemoryBound(to: PluginEntryReply.self)
        let ownHash = TemperABI.interfaceHash
        out.pointee.abiVersion = TemperABI.version
        out.pointee.interfaceHash = ownHash.utf8Start
        out.pointee.interfaceHashLength = ownHash.utf8CodeUnitCount
        guard hostVersion == TemperABI.version, let hostHash, String(cString: hostHash) == ownHash.description else {
            return PluginEntryStatus.abiMismatch
        }
        let registry = ComponentRegistry.shared
        out.pointee.registry = UnsafeRawPointer(Unmanaged.passUnretained(registry).toOpaque())
        let library = out.pointee.libraryPath.map { String(cString: $0) } ?? "unknown library"
        do {
            var registrar = PluginRegistrar(library: library)
            try body(&registrar)
            try registry.register(registrar.components)
            return PluginEntryStatus.ok
        } catch {
            out.pointee.message = strdup("\(error)")
            return PluginEntryStatus.registrationFailed
        }
    }
}
