import TemperCore

/// Registers this library's reward functions with the host.
@_cdecl("temper_plugin_entry")
public func temperPluginEntry(_ abi: UInt32, _ hash: UnsafePointer<CChar>?, _ reply: UnsafeMutableRawPointer?) -> Int32 {
    TemperPlugin.register(abi, hash, reply) { r in
        r.add(ExactMatch.self)
        r.add(MathEquivReward.self)
        r.add(FormatReward.self)
        r.add(LengthReward.self)
        r.add(RepetitionReward.self)
        r.add(CodeExec.self)
        r.add(CountdownReward.self)
        r.add(RewardModelReward.self)
        r.add(ProcessReward.self)
    }
}
