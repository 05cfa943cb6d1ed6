import TemperCore

/// The budget checks every strategy makes before it spends anything, so a budget it cannot meet is a
/// clear error up front rather than a search that silently overspends.
enum SearchBudgetCheck {
    /// N, the candidates per prompt the budget asks for: at least 1. A forward-pass cap is refused,
    /// because a decode's passes depend on the model (a batched decoder spends one per step, a
    /// scripted one one per token), so no strategy here can promise to stay under it.
    static func samples(_ request: SearchRequest, strategy: String) throws -> Int {
        let n = request.budget.samplesPerPrompt
        guard n >= 1 else {
            throw SpecError("\(strategy): the budget asks for \(n) samples per prompt; it needs at least 1")
        }
        if let passes = request.budget.maxForwardPasses {
            throw SpecError("\(strategy): cannot promise a cap of \(passes) forward passes (a decode's passes depend on the model); " +
                            "cap max_generated_tokens instead")
        }
        return n
    }

    /// The most tokens each of `calls` generations of `rows` sequences may produce so that the sum
    /// stays within `maxGeneratedTokens`: `maxNewTokens`, lowered when the cap requires it. A cap
    /// too small for one token per sequence is an error that names both numbers.
    static func tokensPerSequence(_ request: SearchRequest, sequences: Int, strategy: String) throws -> Int {
        let wanted = request.generation.maxNewTokens
        guard wanted >= 1 else { throw SpecError("\(strategy): max_new_tokens is \(wanted); it must be at least 1") }
        guard let cap = request.budget.maxGeneratedTokens else { return wanted }
        let each = cap / sequences
        guard each >= 1 else {
            throw SpecError("\(strategy): a budget of \(cap) generated tokens per prompt cannot pay for \(sequences) sequences " +
                            "(at least 1 token each); raise the token budget or lower the samples")
        }
        return min(wanted, each)
    }
}
