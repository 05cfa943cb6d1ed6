import TemperCore

/// Registers this library's search strategies with the host.
@_cdecl("temper_plugin_entry")
public func temperPluginEntry(_ abi: UInt32, _ hash: UnsafePointer<CChar>?, _ reply: UnsafeMutableRawPointer?) -> Int32 {
    TemperPlugin.register(abi, hash, reply) { r in
        r.add(BeamSearch.self)
        r.add(DiverseVerifierTreeSearch.self)
        r.add(LookaheadSearch.self)
        r.add(MonteCarloTreeSearch.self)
        r.add(TreeOfThoughts.self)
    }
}
