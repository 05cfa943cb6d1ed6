import TemperCore

/// Registers this library's PEFT methods with the host.
@_cdecl("temper_plugin_entry")
public func temperPluginEntry(_ abi: UInt32, _ hash: UnsafePointer<CChar>?, _ reply: UnsafeMutableRawPointer?) -> Int32 {
    TemperPlugin.register(abi, hash, reply) { r in
        r.add(FullFineTuning.self)
        r.add(LoRA.self)
        r.add(DoRA.self)
        r.add(IA3.self)
        r.add(BitFit.self)
        r.add(PromptTuning.self)
        r.add(PrefixTuning.self)
    }
}
