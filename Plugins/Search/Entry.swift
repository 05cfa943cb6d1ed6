import TemperCore

/// Registers this library's search strategies with the host.
@_cdecl("temper_plugin_entry")
public func temperPluginEntry(_ abi: UInt32, _ hash: UnsafePointer<CChar>?, _ reply: UnsafeMutableRawPointer?) -> Int32 {
    TemperPlugin.register(abi, hash, reply) { r in
        r.add(GreedySearch.self)
        r.add(SamplingSearch.self)
        r.add(BestOfN.self)
        r.add(WeightedBestOfN.self)
        r.add(SelfConsistency.self)
        r.add(SelfRefine.self)
        r.add(BudgetForcing.self)
        r.add(ComputeOptimal.self)
        r.add(BeamSearch.self)
        r.add(DiverseVerifierTreeSearch.self)
        r.add(LookaheadSearch.self)
        r.add(MonteCarloTreeSearch.self)
        r.add(TreeOfThoughts.self)
    }
}
