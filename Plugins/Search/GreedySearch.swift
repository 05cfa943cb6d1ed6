import TemperCore

/// greedy: one continuation per prompt, the most likely token at every step (T = 0). The baseline
/// every test-time-scaling curve starts from; it ignores the budget's sample count.
public final class GreedySearch: SearchStrategy {
    /// Registered name.
    public static let name = "greedy"
    /// One-line summary for `temper plugins`.
    public static let summary = "one continuation per prompt, argmax at every step (temperature 0)"
    /// None: greedy decoding has no settings of its own.
    public static let parameters: [ParameterSpec] = []

    /// Builds the strategy.
    public init(config: ComponentConfig) throws {}

    /// y_t = argmax p(· | y_<t), once per prompt; scored by the verifier when there is one.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        _ = try SearchBudgetCheck.samples(request, strategy: Self.name)
        let before = request.model.usage
        var greedy = request
        greedy.generation.temperature = 0
        let samples = try sampleCandidates(greedy, n: 1, strategy: Self.name)
        var scorer = CandidateScorer(strategy: Self.name)
        let candidates = try samples.enumerated().map { i, seqs in
            let scores = request.verifier == nil ? [nil] : try scorer.score(seqs, prompt: i, of: request)
            return [ScoredCandidate(sequence: seqs[0], score: scores[0])]
        }
        return SearchResult(candidates: candidates, usage: request.model.usage - before, failures: scorer.failures)
    }
}
