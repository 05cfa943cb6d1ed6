import TemperCore

/// A `LanguageModelHandle` whose continuations come from a script, for testing search strategies,
/// rollouts and rewards without a network: a test states what the "model" says and checks what
/// the strategy does with it.
///
/// One token per Unicode scalar (its id is the scalar value), so tests read texts rather than
/// ids; id 0 is the end-of-sequence token. Sampling settings other than `numReturnSequences`,
/// `maxNewTokens` and `stop` are ignored: the script is the distribution.
public final class ScriptedLanguageModel: LanguageModelHandle {
    /// Compute charged so far: each generated token is one forward pass; each `logprobs` call is one
    /// forward pass that scores the prompt and continuation tokens.
    public private(set) var usage = ComputeUsage()
    /// `[0]`.
    public let endOfSequenceTokenIDs: [Int32] = [0]

    private let continuation: (_ prompt: String, _ sample: Int) -> String
    private let logprob: (Unicode.Scalar) -> Float
    private var samplesDrawn: [String: Int] = [:]

    /// A model that continues `prompt` with `continuation(prompt, sample)`, where `sample` counts
    /// the samples drawn for that prompt text so far, across calls (0, 1, 2, …). Every token's
    /// log-probability is `logprob(token)`, in `generate` and in `logprobs` alike.
    public init(logprob: @escaping (Unicode.Scalar) -> Float = { _ in -1 },
                continuation: @escaping (_ prompt: String, _ sample: Int) -> String) {
        self.continuation = continuation
        self.logprob = logprob
    }

    /// The Unicode scalar values of `text`.
    public func tokenize(_ text: String) throws -> [Int32] {
        text.unicodeScalars.map { Int32(bitPattern: $0.value) }
    }

    /// The text of `ids`; an error naming the first id that is not a Unicode scalar.
    public func detokenize(_ ids: [Int32]) throws -> String {
        var scalars = String.UnicodeScalarView()
        for id in ids {
            guard id >= 0, let scalar = Unicode.Scalar(UInt32(id)) else {
                throw ModelInputError("ScriptedLanguageModel: token id \(id) is not a Unicode scalar value")
            }
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// `options.numReturnSequences` scripted continuations of each prompt, produced one token at a
    /// time as a real decoder would: a stop string ends the text before it (finish `.stop`), and
    /// `maxNewTokens` tokens end it as `.length`; otherwise the script's text ends with `.eos` (the
    /// end-of-sequence token itself is not charged and does not count toward `maxNewTokens`).
    public func generate(prompts: [[Int32]], options: GenerationOptions) throws -> [[GeneratedSequence]] {
        try prompts.map { ids in
            let prompt = try detokenize(ids)
            return (0..<options.numReturnSequences).map { _ in
                let sample = samplesDrawn[prompt, default: 0]
                samplesDrawn[prompt] = sample + 1
                return decode(continuation(prompt, sample), options: options)
            }
        }
    }

    private func decode(_ script: String, options: GenerationOptions) -> GeneratedSequence {
        var text = String.UnicodeScalarView()
        var finish = FinishReason.eos
        for scalar in script.unicodeScalars {
            if text.count == options.maxNewTokens { finish = .length; break }
            text.append(scalar)
            usage.tokensGenerated += 1
            usage.forwardPasses += 1
            let ended = options.stop.first { stop in !stop.isEmpty && text.reversed().starts(with: stop.unicodeScalars.reversed()) }
            if let stop = ended {
                text = String.UnicodeScalarView(text.dropLast(stop.unicodeScalars.count))
                finish = .stop
                break
            }
        }
        // The end-of-sequence token after a script of exactly maxNewTokens is never reached.
        if finish == .eos, text.count == options.maxNewTokens { finish = .length }
        return GeneratedSequence(tokenIDs: text.map { Int32(bitPattern: $0.value) }, text: String(text),
                                 tokenLogprobs: text.map(logprob), finishReason: finish)
    }

    /// `logprob(token)` for each token of `continuation`.
    public func logprobs(prompt: [Int32], continuation: [Int32]) throws -> [Float] {
        let text = try detokenize(continuation)
        usage.forwardPasses += 1
        usage.tokensScored += prompt.count + continuation.count
        return text.unicodeScalars.map(logprob)
    }
}
