import TemperCore

/// A `LanguageModelHandle` that passes every call to `inner`: the base of test handles that change
/// or watch one or two calls (the seed each `generate` gets, context-dependent `logprobs`, compute
/// counted from the calls) and leave the rest to a `ScriptedLanguageModel` or any other handle.
open class ForwardingLanguageModel: LanguageModelHandle {
    /// Where every call that a subclass does not override goes.
    public let inner: any LanguageModelHandle

    /// A handle answering as `inner` does.
    public init(_ inner: any LanguageModelHandle) { self.inner = inner }

    /// `inner`'s compute so far.
    open var usage: ComputeUsage { inner.usage }
    /// `inner`'s end-of-sequence ids.
    open var endOfSequenceTokenIDs: [Int32] { inner.endOfSequenceTokenIDs }
    /// `inner`'s tokenization.
    open func tokenize(_ text: String) throws -> [Int32] { try inner.tokenize(text) }
    /// `inner`'s detokenization.
    open func detokenize(_ ids: [Int32]) throws -> String { try inner.detokenize(ids) }
    /// `inner`'s chat rendering.
    open func renderChat(_ messages: [ChatMessage]) throws -> String { try inner.renderChat(messages) }
    /// `inner`'s generations.
    open func generate(prompts: [[Int32]], options: GenerationOptions) throws -> [[GeneratedSequence]] {
        try inner.generate(prompts: prompts, options: options)
    }
    /// `inner`'s log-probabilities.
    open func logprobs(_ pairs: [LogprobRequest]) throws -> [[Float]] { try inner.logprobs(pairs) }
    /// `inner`'s decoding session.
    open func startSession(prompts: [[Int32]]) throws -> any DecodingSession { try inner.startSession(prompts: prompts) }
}
