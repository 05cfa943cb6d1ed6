/// The plugin ABI a binary was compiled against.
///
/// Policy (CONTRIBUTING.md): exact-revision rebuilds. TemperCore is built without library
/// evolution, so any change to the plugin-facing types can change layouts or witness tables; a
/// plugin is accepted only when both its version and its interface hash equal the host's.
/// Both members are emitted into the client, so a plugin carries the values it was built with.
///
/// `version` is bumped by hand on a deliberate breaking change; `interfaceHash` is the FNV-1a 64
/// hash of the plugin-interface sources, kept current by `ABIHashTests` (which prints the new value).
public enum TemperABI {
    /// Hand-bumped ABI revision.
    @_alwaysEmitIntoClient public static var version: UInt32 { 1 }
    /// Hash of the interface sources this binary was compiled from (16 hex digits).
    @_alwaysEmitIntoClient public static var interfaceHash: StaticString { "a28f80b509ac54ad" }

    /// `version` as compiled into libTemperKit.so itself: the host's side of the check, whatever
    /// the module reading it was compiled against.
    public static let hostVersion: UInt32 = version
    /// `interfaceHash` as compiled into libTemperKit.so itself.
    public static let hostInterfaceHash: String = interfaceHash.description
}
