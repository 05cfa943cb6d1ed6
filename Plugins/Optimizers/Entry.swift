import TemperCore

/// Registers this library's optimizers with the host.
@_cdecl("temper_plugin_entry")
public func temperPluginEntry(_ abi: UInt32, _ hash: UnsafePointer<CChar>?, _ reply: UnsafeMutableRawPointer?) -> Int32 {
    TemperPlugin.register(abi, hash, reply) { r in
        r.add(SGD.self)
        r.add(AdamW.self)
        r.add(Adam.self)
        r.add(Lion.self)
        r.add(Adafactor.self)
    }
}
