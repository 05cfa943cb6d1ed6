import Foundation

/// The forgetting probe: a model's perplexity on held-out general text, measured before and after
/// fine-tuning, so a run shows what it cost the model outside its task (catastrophic forgetting,
/// McCloskey & Cohen 1989; measured this way in e.g. Biderman et al. 2024, "LoRA Learns Less and
/// Forgets Less").
///
///     perplexity = exp(−(1/N) Σ_t log p(x_t | x_<t))
///
/// over the N predicted tokens of the text's chunks (each chunk's first token is context only).
/// The text is cut to `maxTokens` tokens so a measurement stays cheap; the same tokens are read
/// before and after, so the change is the weights' alone.
public struct GeneralPerplexity {
    /// Tokens read by default: under a second per measurement for SmolLM2-135M on two cores.
    public static let defaultMaxTokens = 512
    /// Tokens per chunk (one row of a forward pass); at most the model's context.
    public static let defaultChunkLength = 128

    /// Where the text came from (a file path or the built-in set), for messages.
    public let source: String
    /// The token ids read, one row each.
    public let chunks: [[Int32]]

    /// Tokens whose probability is measured: every chunk's tokens but its first.
    public var predictedTokens: Int { chunks.reduce(0) { $0 + $1.count - 1 } }

    /// A probe over `chunks` of token ids; each needs at least two tokens (one to predict).
    public init(chunks: [[Int32]], source: String) throws {
        guard !chunks.isEmpty else { throw SpecError("general text \(source): no tokens to measure perplexity on") }
        if let short = chunks.firstIndex(where: { $0.count < 2 }) {
            throw SpecError("general text \(source): chunk \(short) has \(chunks[short].count) token(s); each needs at least 2 (one to predict)")
        }
        self.chunks = chunks
        self.source = source
    }

    /// `text` tokenized with `tokenizer` (control tokens written in it are plain text), its first
    /// `maxTokens` tokens cut into chunks of `chunkLength`; a last chunk of one token is dropped.
    public init(text: String, tokenizer: Tokenizer, maxTokens: Int = defaultMaxTokens, chunkLength: Int = defaultChunkLength,
                source: String) throws {
        guard maxTokens >= 2 else { throw SpecError("general_text_max_tokens must be at least 2, got \(maxTokens)") }
        guard chunkLength >= 2 else { throw SpecError("general text \(source): chunks need at least 2 tokens, got \(chunkLength)") }
        let ids = Array(tokenizer.encode(text, parseSpecialTokens: false).prefix(maxTokens))
        guard ids.count >= 2 else {
            throw SpecError("general text \(source): the tokenizer spells it in \(ids.count) token(s); perplexity needs at least 2")
        }
        let chunks = stride(from: 0, to: ids.count, by: chunkLength).map { Array(ids[$0..<min(ids.count, $0 + chunkLength)]) }
        try self.init(chunks: chunks.filter { $0.count >= 2 }, source: source)
    }

    /// The probe a recipe asks for: `general_text_file` (a UTF-8 text file; `none` turns the probe
    /// off; unset: the built-in `GeneralText`, or no probe when the tokenizer cannot spell it), cut to `general_text_max_tokens`, in chunks that fit
    /// the model's context of `contextLength` tokens.
    public static func from(recipe: TrainingRecipe, tokenizer: Tokenizer, contextLength: Int) throws -> GeneralPerplexity? {
        let file = recipe.string("general_text_file")
        if file?.lowercased() == "none" { return nil }
        let text: String, source: String
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw SpecError("recipe: general_text_file \(file) cannot be read (missing file or no permission); give a UTF-8 text file, or none")
            }
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw SpecError("recipe: general_text_file \(file) is not UTF-8 text")
            }
            (text, source) = (decoded, file)
        } else {
            (text, source) = (GeneralText.text, GeneralText.sourceName)
            // A toy vocabulary (digits only, say) cannot spell English: there is nothing to measure.
            if tokenizer.encode(text, parseSpecialTokens: false).count < 2 { return nil }
        }
        return try GeneralPerplexity(text: text, tokenizer: tokenizer, maxTokens: try recipe.int("general_text_max_tokens"),
                                     chunkLength: min(defaultChunkLength, contextLength), source: source)
    }

    /// The perplexity of `model` on the chunks, `batchSize` rows per forward pass, without gradients
    /// and in eval mode (no dropout).
    public func measure(_ model: any TrainableLanguageModel, batchSize: Int = 4) throws -> Double {
        var logLikelihood = 0.0
        try withNoGrad {
            try withEvalMode {
                for start in stride(from: 0, to: chunks.count, by: batchSize) {
                    let rows = chunks[start..<min(chunks.count, start + batchSize)]
                    let width = rows.map(\.count).max() ?? 0
                    var ids = [Int32](), attention = [Float](), predicted = [Float]()
                    for row in rows {
                        let pad = width - row.count
                        // Right padding: padded columns are neither attended to nor predicted.
                        ids += row + Array(repeating: 0, count: pad)
                        attention += Array(repeating: 1, count: row.count) + Array(repeating: 0, count: pad)
                        predicted += [0] + Array(repeating: 1, count: row.count - 1) + Array(repeating: 0, count: pad)
                    }
                    let shape = [rows.count, width]
                    let logprobs = try CompletionLogProbs.compute(model: model, inputIDs: Tensor(shape: shape, int32: ids),
                                                                  attentionMask: Tensor(shape: shape, scalars: attention),
                                                                  mask: Tensor(shape: shape, scalars: predicted)).logprobs
                    logLikelihood += logprobs.scalars.reduce(0.0) { $0 + Double($1) }
                }
            }
        }
        return exp(-logLikelihood / Double(predictedTokens))
    }

    /// The metrics entry logged before the first step: `general_perplexity` at step 0.
    public func entryBefore(_ model: any TrainableLanguageModel) throws -> [String: Double] {
        ["step": 0, "general_perplexity": try measure(model)]
    }

    /// The entry logged after the last step `step`: `general_perplexity`, and, when `history` (the
    /// run's logged entries) holds the step-0 measurement, `general_perplexity_before` and
    /// `general_perplexity_change` (after − before: positive when the model got worse at general text).
    public func entryAfter(_ model: any TrainableLanguageModel, step: Int, history: [[String: Double]]) throws -> [String: Double] {
        Self.entryAfter(perplexity: try measure(model), step: step, history: history)
    }

    /// The after-training entry for a measured `perplexity` (see `entryAfter(_:step:history:)`).
    public static func entryAfter(perplexity: Double, step: Int, history: [[String: Double]]) -> [String: Double] {
        var entry = ["step": Double(step), "general_perplexity": perplexity]
        if let before = history.first(where: { $0["step"] == 0 })?["general_perplexity"] {
            entry["general_perplexity_before"] = before
            entry["general_perplexity_change"] = perplexity - before
        }
        return entry
    }
}
