import TemperCore

/// best-of-n (Cobbe et al. 2021, arXiv 2110.14168; rejection sampling): sample N complete
/// solutions and return argmax_i r(x, y_i) under the verifier — any reward, a weighted sum of
/// rewards, or a reward model.
public final class BestOfN: SearchStrategy {
    /// Registered name.
    public static let name = "best-of-n"
    /// One-line summary for `temper plugins`.
    public static let summary = "N samples per prompt, the verifier's best first (argmax_i r(x, y_i))"
    /// None: N is the budget's samples per prompt, the scorer the request's verifier.
    public static let parameters: [ParameterSpec] = []

    /// Builds the strategy.
    /// Its answer depends on the verifier (when one is given).
    public var selectsWithVerifier: Bool { true }

    public init(config: ComponentConfig) throws {}

    /// Samples N candidates, scores them, returns them best first (failed scores last).
    public func search(_ request: SearchRequest) throws -> SearchResult {
        let n = try SearchBudgetCheck.samples(request, strategy: Self.name)
        guard request.verifier != nil else {
            throw SpecError("best-of-n: needs a verifier to pick the best of \(n) samples (\(CandidateScorer.verifierHint))")
        }
        let before = request.model.usage
        let samples = try sampleCandidates(request, n: n, strategy: Self.name)
        var scorer = CandidateScorer(strategy: Self.name)
        let candidates = try samples.enumerated().map { i, seqs in
            rankedByScore(seqs, try scorer.score(seqs, prompt: i, of: request))
        }
        return SearchResult(candidates: candidates, usage: request.model.usage - before, failures: scorer.failures)
    }
}
