import TemperCore

/// sampling: N independent samples per prompt with the request's temperature / top-k / top-p /
/// min-p, kept in sampling order (the answer is the first). What pass@N and maj@N are computed
/// over; with a verifier each sample carries its score, but nothing is reordered.
public final class SamplingSearch: SearchStrategy {
    /// Registered name.
    public static let name = "sampling"
    /// One-line summary for `temper plugins`.
    public static let summary = "N samples per prompt in sampling order (the first is the answer); scored when a verifier is given"
    /// None: the sampling settings are the request's generation options.
    public static let parameters: [ParameterSpec] = []

    /// Builds the strategy.
    public init(config: ComponentConfig) throws {}

    /// y_1..y_N ~ p(· | x), one batched decode per prompt set.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        let n = try SearchBudgetCheck.samples(request, strategy: Self.name)
        let before = request.model.usage
        let samples = try sampleCandidates(request, n: n, strategy: Self.name)
        var scorer = CandidateScorer(strategy: Self.name)
        let candidates = try samples.enumerated().map { i, seqs in
            let scores = request.verifier == nil ? seqs.map { _ in nil } : try scorer.score(seqs, prompt: i, of: request)
            return zip(seqs, scores).map { ScoredCandidate(sequence: $0, score: $1) }
        }
        return SearchResult(candidates: candidates, usage: request.model.usage - before, failures: scorer.failures)
    }
}
