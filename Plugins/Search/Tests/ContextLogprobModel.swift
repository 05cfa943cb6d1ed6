import TemperCore
import TemperTestSupport

/// A handle whose `logprobs` depend on the context, which `ScriptedLanguageModel`'s (per token)
/// cannot: every continuation token has log-probability 0 except the last, which has
/// `−weight(continuation) · 0.1 · prompt.count`. Everything else is `ScriptedLanguageModel`'s
/// with an empty script.
final class ContextLogprobModel: ForwardingLanguageModel {
    private let weight: ([Int32]) -> Float

    init(weight: @escaping (_ continuation: [Int32]) -> Float) {
        self.weight = weight
        super.init(ScriptedLanguageModel { _, _ in "" })
    }

    override func logprobs(_ pairs: [LogprobRequest]) throws -> [[Float]] {
        _ = try super.logprobs(pairs)  // charges the compute
        return pairs.map { p in
            p.continuation.indices.map { $0 == p.continuation.count - 1 ? -weight(p.continuation) * 0.1 * Float(p.prompt.count) : 0 }
        }
    }
}
