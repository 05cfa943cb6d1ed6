import TemperCore

/// __component__: best-of-N. Samples N candidates per prompt, scores them with the verifier and
/// returns them best first. Replace `search` with your strategy; report the compute you used.
public final class __Name__: SearchStrategy {
    public static let name = "__component__"
    public static let summary = "best-of-N against the verifier (template: edit me)"
    public static let parameters: [ParameterSpec] = [
        .int("n", default: 4, range: .atLeast(1), doc: "candidates sampled per prompt"),
    ]

    let n: Int

    public init(config: ComponentConfig) throws {
        n = try config.int("n")
    }

    public func search(_ request: SearchRequest) throws -> SearchResult {
        let before = request.model.usage
        var options = request.generation
        options.numReturnSequences = min(n, request.budget.samplesPerPrompt > 1 ? request.budget.samplesPerPrompt : n)
        let prompts = try request.prompts.map { try request.model.tokenize($0) }
        let samples = try request.model.generate(prompts: prompts, options: options)
        var results: [[ScoredCandidate]] = []
        for (i, candidates) in samples.enumerated() {
            var scores = [Float?](repeating: nil, count: candidates.count)
            if let verifier = request.verifier {
                let columns = request.columns.mapValues { values in candidates.map { _ in values[i] } }
                scores = try verifier.score(RewardBatch(prompts: candidates.map { _ in request.prompts[i] },
                                                        completions: candidates.map(\.text),
                                                        completionTokenIDs: candidates.map(\.tokenIDs), columns: columns))
            }
            let scored = zip(candidates, scores).map { ScoredCandidate(sequence: $0, score: $1) }
            // Stable sort: unscored candidates last, ties keep sampling order.
            results.append(scored.enumerated().sorted { a, b in
                let (x, y) = (a.element.score ?? -.infinity, b.element.score ?? -.infinity)
                return x != y ? x > y : a.offset < b.offset
            }.map(\.element))
        }
        return SearchResult(candidates: results, usage: request.model.usage - before)
    }
}
