import TemperCore

/// A verifier whose score for a completion is `score(completion)`; a thrown error fails only the
/// batches holding that completion, as a real reward that crashes on one input would.
struct ScriptedReward: RewardScoring {
    let score: (String) throws -> Float?

    func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.completions.map(score)
    }
}

/// A request for `prompts` with `samples` per prompt and an optional token cap.
func request(_ model: any LanguageModelHandle, _ prompts: [String], samples: Int = 1, maxGeneratedTokens: Int? = nil,
             verifier: (any RewardScoring)? = nil, columns: [String: [ColumnValue]] = [:]) -> SearchRequest {
    SearchRequest(model: model, prompts: prompts, columns: columns, verifier: verifier,
                  budget: SearchBudget(samplesPerPrompt: samples, maxGeneratedTokens: maxGeneratedTokens),
                  generation: GenerationOptions(maxNewTokens: 64))
}

/// Texts of a result's candidates for prompt `i`, answer first.
func texts(_ result: SearchResult, _ i: Int = 0) -> [String] {
    result.candidates[i].map(\.sequence.text)
}
