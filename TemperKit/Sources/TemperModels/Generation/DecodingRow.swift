/// One sequence being decoded: what it has produced and the rules that end it (stop token, stop
/// string, `max_new_tokens` or the end of the model's context, none of the first two before
/// `min_new_tokens`). The generator and the decoding sessions share it, so both stop at exactly the
/// same token.
struct DecodingRow {
    /// Prompt and every token since: what the repetition penalty looks at.
    var context: [Int32]
    /// Tokens produced by this decode.
    private(set) var produced: [Int32] = []
    /// Their log-probabilities.
    private(set) var logprobs: [Float] = []
    /// Set once the row has ended.
    private(set) var finish: FinishReason?
    /// The decoded text, cut before a stop string once one ended the row.
    private var stoppedText: String?
    /// Characters of the text when `min_new_tokens` was reached: a stop string counts only if it
    /// ends after them.
    private var searchFrom: Int?

    /// New tokens that fit in the model's context after the prompt (and any virtual prefix): the
    /// row ends with `.length` there even if `max_new_tokens` allows more.
    private let room: Int

    init(context: [Int32], room: Int = .max) {
        self.context = context
        self.room = room
    }

    /// Takes the sampled `token`; returns true when the row has ended.
    mutating func accept(_ token: Int32, logprob: Float, options: GenerationOptions, tokenizer: Tokenizer) -> Bool {
        context.append(token)
        produced.append(token)
        logprobs.append(logprob)
        let mayStop = produced.count > options.minNewTokens
        if mayStop, options.stopTokenIds.contains(token) {
            finish = .eos
        } else if !options.stopStrings.isEmpty {
            let text = tokenizer.decode(produced)
            if produced.count == options.minNewTokens { searchFrom = text.count }
            if mayStop, let cut = Self.firstStop(in: text, options.stopStrings, endingAfter: searchFrom ?? 0) {
                finish = .stop
                stoppedText = String(text[..<cut])
            }
        }
        if finish == nil, produced.count >= min(options.maxNewTokens, room) { finish = .length }
        return finish != nil
    }

    /// The finished (or cut-off) sequence.
    func result(tokenizer: Tokenizer) -> GeneratedSequence {
        let text: String
        switch finish {
        case .eos: text = tokenizer.decode(produced.dropLast())
        case .stop: text = stoppedText ?? ""
        case .length, nil: text = tokenizer.decode(produced)
        }
        return GeneratedSequence(tokenIDs: produced, text: text, tokenLogprobs: logprobs, finishReason: finish ?? .length)
    }

    /// Where the earliest stop string that ends after `characters` characters begins.
    private static func firstStop(in text: String, _ stops: [String], endingAfter characters: Int) -> String.Index? {
        let boundary = text.index(text.startIndex, offsetBy: min(characters, text.count))
        var best: String.Index?
        for stop in stops {
            var from = text.startIndex
            while let r = text.range(of: stop, range: from..<text.endIndex) {
                if r.upperBound > boundary {
                    if best.map({ r.lowerBound < $0 }) ?? true { best = r.lowerBound }
                    break
                }
                from = text.index(after: r.lowerBound)
            }
        }
        return best
    }
}
