import TemperCore

/// Samples `n` complete candidates of every prompt in one batched `generate` call, each at most
/// as long as the token budget allows (`maxNewTokens` split evenly over the `n` candidates).
func sampleCandidates(_ request: SearchRequest, n: Int, strategy: String) throws -> [[GeneratedSequence]] {
    var options = request.generation
    options.numReturnSequences = n
    options.maxNewTokens = try SearchBudgetCheck.tokensPerSequence(request, sequences: n, strategy: strategy)
    let prompts = try request.prompts.map { try request.model.tokenize($0) }
    let samples = try request.model.generate(prompts: prompts, options: options)
    guard samples.count == prompts.count, samples.allSatisfy({ $0.count == n }) else {
        throw SpecError("\(strategy): the model returned \(samples.map(\.count)) sequences for \(prompts.count) prompts × \(n)")
    }
    return samples
}

/// `candidates` with their scores, best first: a stable sort, so ties keep sampling order, and
/// unscored candidates (nil: not applicable, or the verifier failed on them) come last.
func rankedByScore(_ candidates: [GeneratedSequence], _ scores: [Float?]) -> [ScoredCandidate] {
    zip(candidates, scores).enumerated().sorted { a, b in
        let (x, y) = (a.element.1 ?? -.infinity, b.element.1 ?? -.infinity)
        return x != y ? x > y : a.offset < b.offset
    }.map { ScoredCandidate(sequence: $0.element.0, score: $0.element.1) }
}
