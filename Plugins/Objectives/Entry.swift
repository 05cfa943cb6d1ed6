import TemperCore

/// Registers this library's objectives with the host.
@_cdecl("temper_plugin_entry")
public func temperPluginEntry(_ abi: UInt32, _ hash: UnsafePointer<CChar>?, _ reply: UnsafeMutableRawPointer?) -> Int32 {
    TemperPlugin.register(abi, hash, reply) { r in
        r.add(SFT.self)
        r.add(Distill.self)
        r.add(GRPO.self)
        r.add(RLOO.self)
        r.add(ReinforcePlusPlus.self)
        r.add(ReMax.self)
        r.add(PPO.self)
        r.add(RFT.self)
        r.add(DPO.self)
        r.add(KTO.self)
        r.add(ORPO.self)
        r.add(SimPO.self)
        r.add(CPO.self)
        r.add(RewardModel.self)
        r.add(PRM.self)
        r.add(OnlineDPO.self)
    }
}
