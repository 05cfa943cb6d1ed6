import TemperCore

/// weighted-best-of-n (DiVeRSe, Li et al. 2022, arXiv 2206.02336; Hugging Face's "scaling
/// test-time compute" blog, 2024): sample N solutions, score each with the verifier, and return the
/// answer a with the largest summed score  â = argmax_a Σ_{i: ans(y_i) = a} r(x, y_i).
///
/// Answers are extracted and compared as `math-equiv` does, so "0.5" and "1/2" pool their scores.
/// Each candidate's score is its answer's summed score; a candidate without an answer, or whose
/// scoring failed, adds nothing.
public final class WeightedBestOfN: SearchStrategy {
    /// Registered name.
    public static let name = "weighted-best-of-n"
    /// One-line summary for `temper plugins`.
    public static let summary = "N samples per prompt; the answer whose samples' verifier scores sum highest (DiVeRSe)"
    /// Where answers are found.
    public static let parameters: [ParameterSpec] = [answerExtractionParameter]

    let reader: MathAnswerReader

    /// Reads `extract`.
    /// Its answer depends on the verifier (when one is given).
    public var selectsWithVerifier: Bool { true }

    public init(config: ComponentConfig) throws {
        reader = try answerReader(config)
    }

    /// Candidates of the winning answer first (best-scored first within it), then the other answers
    /// by summed score, then candidates without an answer.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        let n = try SearchBudgetCheck.samples(request, strategy: Self.name)
        guard request.verifier != nil else {
            throw SpecError("weighted-best-of-n: needs a verifier to weigh the answers of \(n) samples (\(CandidateScorer.verifierHint))")
        }
        let before = request.model.usage
        let samples = try sampleCandidates(request, n: n, strategy: Self.name)
        var scorer = CandidateScorer(strategy: Self.name)
        let candidates = try samples.enumerated().map { i, seqs in
            let scores = try scorer.score(seqs, prompt: i, of: request)
            let groups = AnswerGroups(seqs.map(\.text), reader: reader)
            var kept: [ScoredCandidate] = []
            for (group, weight) in groups.ranked(by: { $0.members.reduce(0) { $0 + (scores[$1] ?? 0) } }) {
                let members = rankedByScore(group.members.map { seqs[$0] }, group.members.map { scores[$0] })
                kept += members.map { ScoredCandidate(sequence: $0.sequence, score: weight) }
            }
            kept += groups.unanswered.map { ScoredCandidate(sequence: seqs[$0], score: nil) }
            return kept
        }
        return SearchResult(candidates: candidates, usage: request.model.usage - before, failures: scorer.failures)
    }
}
