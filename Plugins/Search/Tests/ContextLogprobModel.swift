import TemperCore
import TemperTestSupport

/// A handle whose `logprobs` depend on the context, which `ScriptedLanguageModel`'s (per token)
/// cannot: every continuation token has log-probability 0 except the last, which has
/// `−weight(continuation) · 0.1 · prompt.count`. Everything else is `ScriptedLanguageModel`'s
/// with an empty script.
final class ContextLogprobModel: LanguageModelHandle {
    private let inner = ScriptedLanguageModel { _, _ in "" }
    private let weight: ([Int32]) -> Float

    init(weight: @escaping (_ continuation: [Int32]) -> Float) { self.weight = weight }

    var usage: ComputeUsage { inner.usage }
    var endOfSequenceTokenIDs: [Int32] { inner.endOfSequenceTokenIDs }
    func tokenize(_ text: String) throws -> [Int32] { try inner.tokenize(text) }
    func detokenize(_ ids: [Int32]) throws -> String { try inner.detokenize(ids) }
    func renderChat(_ messages: [ChatMessage]) throws -> String { try inner.renderChat(messages) }
    func generate(prompts: [[Int32]], options: GenerationOptions) throws -> [[GeneratedSequence]] {
        try inner.generate(prompts: prompts, options: options)
    }
    func startSession(prompts: [[Int32]]) throws -> any DecodingSession { try inner.startSession(prompts: prompts) }

    func logprobs(_ pairs: [LogprobRequest]) throws -> [[Float]] {
        _ = try inner.logprobs(pairs)
        return pairs.map { p in
            p.continuation.indices.map { $0 == p.continuation.count - 1 ? -weight(p.continuation) * 0.1 * Float(p.prompt.count) : 0 }
        }
    }
}
