import TemperModels

/// How rows become token sequences and which tokens carry the loss (TRL's SFT settings).
public struct EncodingOptions: Equatable {
    /// Loss on completion tokens only for prompt–completion rows (else on the prompt too).
    public var completionOnlyLoss: Bool
    /// Loss on assistant turns only for conversations (else on every token).
    public var assistantOnlyLoss: Bool
    /// Sequences are cut to this many tokens.
    public var maxLength: Int
    /// Which end of a too-long sequence is kept (TRL's `truncation_mode`).
    public var truncationMode: TruncationMode
    /// Prompts of preference, unpaired and stepwise rows are first cut to their last this-many
    /// tokens (TRL's `max_prompt_length`); nil: no separate limit.
    public var maxPromptLength: Int?
    /// What follows each step of a stepwise row; its last token carries the step's label (TRL's
    /// PRM `step_separator`).
    public var stepSeparator: String

    /// Options with TRL's defaults: completion-only loss on, assistant-only loss off, keep_start,
    /// step separator "\n".
    public init(completionOnlyLoss: Bool = true, assistantOnlyLoss: Bool = false, maxLength: Int = 1024,
                truncationMode: TruncationMode = .keepStart, maxPromptLength: Int? = nil, stepSeparator: String = "\n") {
        self.completionOnlyLoss = completionOnlyLoss
        self.assistantOnlyLoss = assistantOnlyLoss
        self.maxLength = maxLength
        self.truncationMode = truncationMode
        self.maxPromptLength = maxPromptLength
        self.stepSeparator = stepSeparator
    }
}

/// Turns `DatasetRow`s into `TokenizedExample`s with the model's tokenizer and chat template.
///
/// Plain text and plain prompt–completion rows get the tokenizer's prefix tokens (BOS) and an EOS
/// after the text, as TRL adds; conversations are rendered by the chat template, which writes its
/// own turn markers. Which tokens belong to a completion or an assistant turn is found by encoding
/// the conversation up to that point: the template renders prefixes of a chat as prefixes of its
/// text, which the encoder checks rather than assumes.
public struct ExampleEncoder {
    /// The tokenizer (its chat template renders conversations).
    public let tokenizer: Tokenizer
    /// Loss and length settings.
    public let options: EncodingOptions

    /// An encoder for `tokenizer`.
    public init(tokenizer: Tokenizer, options: EncodingOptions) {
        self.tokenizer = tokenizer
        self.options = options
    }

    /// The example for `row`; errors name `file` and `line`.
    public func encode(_ row: DatasetRow, file: String, line: Int) throws -> TokenizedExample {
        do {
            return try encodeUntruncated(row).truncated(to: options.maxLength, mode: options.truncationMode)
        } catch let e as RowError {
            throw TrainingDataError(file: file, line: line, field: e.field, e.reason)
        } catch let e as TokenizerError {
            throw TrainingDataError(file: file, line: line, field: nil, "cannot be rendered with the model's chat template: \(e)")
        }
    }

    private func encodeUntruncated(_ row: DatasetRow) throws -> TokenizedExample {
        switch row {
        case .text(let text):
            let ids = tokenizer.encode(text, parseSpecialTokens: false, addSpecialTokens: true) + eos
            return TokenizedExample(ids: ids, lossMask: Array(repeating: true, count: ids.count))
        case let .promptCompletion(prompt, completion):
            let p = tokenizer.encode(prompt, parseSpecialTokens: false, addSpecialTokens: true)
            let c = tokenizer.encode(completion, parseSpecialTokens: false) + eos
            return TokenizedExample(ids: p + c, lossMask: Array(repeating: !options.completionOnlyLoss, count: p.count)
                                                          + Array(repeating: true, count: c.count))
        case let .conversationalPromptCompletion(prompt, completion):
            let p = try tokenizer.encodeChat(prompt, addGenerationPrompt: true)
            let all = try tokenizer.encodeChat(prompt + completion, addGenerationPrompt: false)
            guard all.starts(with: p) else {
                throw RowError(field: "completion", "the chat template does not render the prompt as a prefix of prompt + completion, " +
                               "so the completion tokens cannot be told apart (does the completion start with an assistant message?)")
            }
            return TokenizedExample(ids: all, lossMask: (0..<all.count).map { $0 >= p.count || !options.completionOnlyLoss })
        case .conversation(let messages):
            let all = try tokenizer.encodeChat(messages, addGenerationPrompt: false)
            guard options.assistantOnlyLoss else { return TokenizedExample(ids: all, lossMask: Array(repeating: true, count: all.count)) }
            var mask = Array(repeating: false, count: all.count)
            for (i, m) in messages.enumerated() where m.role == "assistant" {
                guard i > 0 else {
                    throw RowError(field: "messages[0]", "assistant_only_loss needs a user or system message before the first assistant turn")
                }
                let before = try tokenizer.encodeChat(Array(messages[..<i]), addGenerationPrompt: true)
                let through = try tokenizer.encodeChat(Array(messages[...i]), addGenerationPrompt: false)
                guard through.starts(with: before), all.starts(with: through) else {
                    throw RowError(field: "messages[\(i)]", "the chat template does not render this conversation's turns as prefixes of " +
                                   "each other, so assistant tokens cannot be located for assistant_only_loss")
                }
                for t in before.count..<through.count { mask[t] = true }
            }
            return TokenizedExample(ids: all, lossMask: mask)
        case let .preference(prompt, chosen, rejected, margin):
            return try encodePair(prompt: prompt, chosen: chosen, rejected: rejected, margin: margin)
        case let .unpaired(prompt, completion, label):
            return try encodeUnpaired(prompt: prompt, completion: completion, label: label)
        case let .stepwise(prompt, steps, labels):
            return encodeSteps(prompt: prompt, steps: steps, labels: labels)
        }
    }

    var eos: [Int32] { tokenizer.eosTokenID.map { [$0] } ?? [] }
}
