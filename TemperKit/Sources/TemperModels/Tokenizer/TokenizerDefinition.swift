/// Everything a byte-level BPE tokenizer is built from, independent of the file it came from:
/// `tokenizer.json` + `tokenizer_config.json` (see `TokenizerDefinition(directory:)`) or the
/// `tokenizer.ggml.*` metadata of a GGUF file (see `TokenizerDefinition(gguf:)`).
public struct TokenizerDefinition: Sendable {
    /// Text normalization applied to plain text before pre-tokenization.
    public enum Normalizer: String, Sendable {
        /// Text is used as given.
        case none
        /// Unicode canonical composition (Qwen2 vocabularies expect it).
        case nfc
    }

    /// Token strings by id, in byte-level spelling (added tokens verbatim).
    public var tokens: [String]
    /// Merge rules, highest priority first.
    public var merges: [(left: String, right: String)]
    /// Tokens matched verbatim before pre-tokenization.
    public var addedTokens: [AddedToken]
    /// How text is cut into words.
    public var preTokenizer: PreTokenizer
    /// Normalization of plain text.
    public var normalizer: Normalizer
    /// `ignore_merges`: a word that is a vocabulary token is emitted whole (Llama 3).
    public var ignoreMerges: Bool
    /// The BPE model's `unk_token`, written for bytes the vocabulary lacks; nil drops them.
    public var unknownTokenID: Int32?
    /// Beginning-of-sequence token, if the model has one.
    public var bosTokenID: Int32?
    /// End-of-sequence token (the default stop token), if any.
    public var eosTokenID: Int32?
    /// Padding token, if any.
    public var padTokenID: Int32?
    /// Tokens put before the text when special tokens are added (e.g. BOS for Llama 3).
    public var prefixTokenIDs: [Int32]
    /// Tokens put after the text when special tokens are added.
    public var suffixTokenIDs: [Int32]
    /// The Jinja chat template source, if the model ships one.
    public var chatTemplate: String?

    /// Creates a definition from its parts; `Tokenizer(_:)` validates them.
    public init(tokens: [String], merges: [(left: String, right: String)], addedTokens: [AddedToken],
                preTokenizer: PreTokenizer, normalizer: Normalizer = .none, ignoreMerges: Bool = false,
                unknownTokenID: Int32? = nil, bosTokenID: Int32? = nil, eosTokenID: Int32? = nil, padTokenID: Int32? = nil,
                prefixTokenIDs: [Int32] = [], suffixTokenIDs: [Int32] = [], chatTemplate: String? = nil) {
        self.tokens = tokens
        self.merges = merges
        self.addedTokens = addedTokens
        self.preTokenizer = preTokenizer
        self.normalizer = normalizer
        self.ignoreMerges = ignoreMerges
        self.unknownTokenID = unknownTokenID
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.padTokenID = padTokenID
        self.prefixTokenIDs = prefixTokenIDs
        self.suffixTokenIDs = suffixTokenIDs
        self.chatTemplate = chatTemplate
    }

    /// Splits a merge line of the form `"left right"` (the older `tokenizer.json` and GGUF form).
    /// Byte-level tokens never contain a raw space, so the first space separates the two halves.
    public static func parseMerge(_ line: String) -> (left: String, right: String)? {
        guard let space = line.firstIndex(of: " ") else { return nil }
        let right = line[line.index(after: space)...]
        guard space > line.startIndex, !right.isEmpty else { return nil }
        return (String(line[..<space]), String(right))
    }
}
