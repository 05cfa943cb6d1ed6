import TemperCore

/// self-consistency (Wang et al. 2022, arXiv 2203.11171): sample N reasoning paths and return the
/// most frequent final answer  â = argmax_a Σ_i 1[ans(y_i) = a]  — maj@N, no verifier.
///
/// Answers are extracted and compared with the same reader as the `math-equiv` reward, so "0.5",
/// "1/2" and "\frac{1}{2}" are one answer in the vote exactly when they are one answer to the
/// grader. Samples without a final answer do not vote. Each candidate's score is its answer's
/// vote share (votes / N).
public final class SelfConsistency: SearchStrategy {
    /// Registered name.
    public static let name = "self-consistency"
    /// One-line summary for `temper plugins`.
    public static let summary = "N samples per prompt; the majority final answer, compared as math-equiv compares (maj@N)"
    /// Where answers are found.
    public static let parameters: [ParameterSpec] = [answerExtractionParameter]

    let reader: MathAnswerReader

    /// Reads `extract`.
    public init(config: ComponentConfig) throws {
        reader = try answerReader(config)
    }

    /// Candidates of the majority answer first (ties: the answer sampled first), then the others by
    /// votes, then samples without an answer.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        let n = try SearchBudgetCheck.samples(request, strategy: Self.name)
        let before = request.model.usage
        let samples = try sampleCandidates(request, n: n, strategy: Self.name)
        let candidates = samples.map { seqs in
            let groups = AnswerGroups(seqs.map(\.text), reader: reader)
            var kept: [ScoredCandidate] = []
            for (group, votes) in groups.ranked(by: { Float($0.members.count) }) {
                kept += group.members.map { ScoredCandidate(sequence: seqs[$0], score: votes / Float(n)) }
            }
            kept += groups.unanswered.map { ScoredCandidate(sequence: seqs[$0], score: 0) }
            return kept
        }
        return SearchResult(candidates: candidates, usage: request.model.usage - before)
    }
}
