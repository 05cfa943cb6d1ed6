/// Why a tokenizer could not be built, or a chat could not be rendered. Every case names the file,
/// field or value at fault so that the message alone tells the user what to fix.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// A file could not be read or parsed; `path` names it.
    case unreadableFile(path: String, reason: String)
    /// A required field is missing or has the wrong type; `field` is its JSON/GGUF key path.
    case invalidField(field: String, expected: String)
    /// The tokenizer model type is not byte-level BPE (e.g. SentencePiece "Unigram" or "llama").
    case unsupportedModel(String)
    /// A pre-tokenizer configuration (or split pattern) this implementation does not recognise.
    case unsupportedPreTokenizer(String)
    /// A normalizer this implementation does not implement.
    case unsupportedNormalizer(String)
    /// A decoder this implementation does not implement.
    case unsupportedDecoder(String)
    /// A merge names a token that is not in the vocabulary.
    case unknownMergeToken(merge: Int, token: String)
    /// A token id is negative or not below the vocabulary size.
    case tokenIDOutOfRange(field: String, id: Int, vocabularySize: Int)
    /// The tokenizer has no chat template at all.
    case missingChatTemplate
    /// A chat template that is not one of the known families; `excerpt` quotes its start.
    case unsupportedChatTemplate(excerpt: String, reason: String)
    /// A message the recognised template cannot render faithfully (e.g. an unsupported role).
    case unsupportedMessage(role: String, template: String)
    /// A chat with no messages, which the templates render inconsistently.
    case emptyChat

    /// The message shown to the user.
    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            return "cannot read tokenizer file \(path): \(reason)"
        case let .invalidField(field, expected):
            return "tokenizer field '\(field)': expected \(expected)"
        case let .unsupportedModel(model):
            return "unsupported tokenizer model '\(model)': only byte-level BPE is implemented"
        case let .unsupportedPreTokenizer(what):
            return "unsupported pre-tokenizer: \(what)"
        case let .unsupportedNormalizer(what):
            return "unsupported normalizer: \(what)"
        case let .unsupportedDecoder(what):
            return "unsupported decoder: \(what) (only ByteLevel is implemented)"
        case let .unknownMergeToken(merge, token):
            return "merge #\(merge) uses token '\(token)', which is not in the vocabulary"
        case let .tokenIDOutOfRange(field, id, size):
            return "tokenizer field '\(field)': token id \(id) is outside the vocabulary of \(size) tokens"
        case .missingChatTemplate:
            return "the tokenizer has no chat template (tokenizer_config.json 'chat_template', chat_template.jinja or GGUF 'tokenizer.chat_template')"
        case let .unsupportedChatTemplate(excerpt, reason):
            return "cannot render chat template \"\(excerpt)…\": \(reason)"
        case let .unsupportedMessage(role, template):
            return "the \(template) chat template cannot render a message with role '\(role)'"
        case .emptyChat:
            return "a chat must have at least one message"
        }
    }
}
