import TemperCore

/// compute-optimal (Snell et al. 2024, arXiv 2408.03314, §3.2): θ*_q(N) = argmax_θ E[1(y = y*(q))]
/// chosen per question-difficulty bin. It samples `probe_samples` answers of each question, scores
/// them with the verifier to estimate the difficulty d = 1 − mean score, and runs the strategy and
/// budget that a `temper eval` sweep found most accurate for that bin at the requested budget
/// (`table`, written by `temper eval --sweep-table`).
///
/// The probes are real compute and are reported with the routed search's. The answer's candidates
/// are the routed strategy's.
public final class ComputeOptimal: SearchStrategy {
    /// Registered name.
    public static let name = "compute-optimal"
    /// One-line summary for `temper plugins`.
    public static let summary = "estimates difficulty from a few verified samples, then runs the strategy a sweep found best for that bin and budget"
    /// The sweep table.
    public static let parameters: [ParameterSpec] = [
        .string("table", default: nil, doc: "the sweep table, a JSON file written by `temper eval --sweep-table FILE`"),
    ]

    let table: ComputeOptimalTable

    /// Reads and checks the table.
    /// Its answer depends on the verifier (when one is given).
    public var selectsWithVerifier: Bool { true }

    public init(config: ComponentConfig) throws {
        let path = try config.string("table")
        table = try ComputeOptimalTable.load(path)
        for (i, choice) in table.choices.enumerated() where try ComponentSpec(parsing: choice.search).name == Self.name {
            throw SpecError("compute-optimal table \(path): choices[\(i)] routes to compute-optimal itself")
        }
    }

    /// Probes, bins and routes each prompt in turn.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        let budget = try SearchBudgetCheck.samples(request, strategy: Self.name)
        guard request.verifier != nil else {
            throw SpecError("compute-optimal: needs a verifier to estimate question difficulty (\(CandidateScorer.verifierHint))")
        }
        if request.budget.maxGeneratedTokens != nil {
            throw SpecError("compute-optimal: cannot split a generated-token cap between its probes and the routed search; " +
                            "give it a sample budget only")
        }
        let before = request.model.usage
        var candidates: [[ScoredCandidate]] = []
        var failures: [String] = []
        for i in request.prompts.indices {
            var one = request
            one.prompts = [request.prompts[i]]
            one.columns = request.columns.mapValues { [$0[i]] }
            var probe = one
            probe.budget.samplesPerPrompt = table.probeSamples
            // With the request's own seed the probes would be the routed search's first samples
            // (same stream, same draws): they draw from a stream derived from it instead.
            probe.generation.seed = SearchSweep.itemSeed(~one.generation.seed, item: i)
            let probes = try SamplingSearch(config: ComponentConfig(component: SamplingSearch.name, values: [:])).search(probe)
            let difficulty = ComputeOptimalTable.difficulty(probeScores: probes.candidates[0].map(\.score))
            let choice = try table.choice(bin: table.bin(ofDifficulty: difficulty), budget: budget)
            var routed = one
            routed.budget.samplesPerPrompt = choice.budget
            let result = try ComponentRegistry.shared.search(choice.search).search(routed)
            candidates.append(result.candidates[0])
            failures += (probes.failures + result.failures).map { "prompt \(i): \($0)" }
        }
        return SearchResult(candidates: candidates, usage: request.model.usage - before, failures: failures)
    }
}
