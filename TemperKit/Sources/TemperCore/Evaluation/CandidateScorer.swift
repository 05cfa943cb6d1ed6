/// Scores one prompt's candidates with a search request's verifier (search strategies, and `temper
/// eval` grading their answers), one failing candidate never taking the others down: when the batch
/// throws, each candidate is scored alone, and those that still throw stay unscored (nil) with a
/// message in `failures`.
///
/// When every candidate of a batch of several fails, the verifier itself is unusable here (a
/// missing column, a broken reward model): that is an error, not a search whose answers are all
/// unscored. A lone candidate (self-refine's revisions) that fails is counted like any other.
public struct CandidateScorer {
    /// Who scores (a strategy's registered name, `eval`), for messages.
    public let strategy: String
    /// Messages of the candidates whose scoring threw, in order.
    public private(set) var failures: [String] = []

    /// How a user gives a strategy its verifier, for the message of a strategy that has none.
    public static let verifierHint = "temper search: --reward SPEC; temper eval: --verifier SPEC, or --verifier oracle to select with the grading reward"

    /// A scorer with no failures yet.
    public init(strategy: String) { self.strategy = strategy }

    /// One score per candidate of prompt `prompt`; nil where the verifier does not apply or failed.
    public mutating func score(_ candidates: [GeneratedSequence], prompt: Int, of request: SearchRequest) throws -> [Float?] {
        guard let verifier = request.verifier else {
            throw SpecError("\(strategy): needs a verifier to score candidates (\(Self.verifierHint))")
        }
        guard !candidates.isEmpty else { return [] }
        if let scores = try? verifier.score(batch(candidates, prompt: prompt, of: request)), scores.count == candidates.count {
            return scores
        }
        var scores = [Float?](repeating: nil, count: candidates.count)
        var messages: [String] = []
        var firstError: (any Error)?
        for (k, candidate) in candidates.enumerated() {
            do {
                let one = try verifier.score(batch([candidate], prompt: prompt, of: request))
                guard one.count == 1 else { throw SpecError("the verifier returned \(one.count) scores for 1 completion") }
                scores[k] = one[0]
            } catch {
                firstError = firstError ?? error
                messages.append("prompt \(prompt), candidate \(k): \(error)")
            }
        }
        if candidates.count > 1, messages.count == candidates.count, let firstError {
            throw SpecError("\(strategy): the verifier failed on every candidate of prompt \(prompt): \(firstError)")
        }
        failures += messages
        return scores
    }

    /// The reward batch for `candidates`, the prompt and its dataset columns repeated per candidate.
    private func batch(_ candidates: [GeneratedSequence], prompt i: Int, of request: SearchRequest) -> RewardBatch {
        RewardBatch(prompts: candidates.map { _ in request.prompts[i] }, completions: candidates.map(\.text),
                    completionTokenIDs: candidates.map(\.tokenIDs),
                    columns: request.columns.mapValues { values in candidates.map { _ in values[i] } })
    }
}
