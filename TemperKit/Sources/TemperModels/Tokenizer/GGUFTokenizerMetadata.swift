/// The tokenizer part of a GGUF file's metadata (`tokenizer.ggml.*`, `tokenizer.chat_template`),
/// as plain values, so the tokenizer can be built from any GGUF reader.
public struct GGUFTokenizerMetadata: Sendable {
    /// `tokenizer.ggml.model`: "gpt2" for byte-level BPE (the only kind implemented).
    public var model: String
    /// `tokenizer.ggml.pre`: llama.cpp's name for the pre-tokenizer ("smollm", "llama-bpe", ...).
    public var pre: String?
    /// `tokenizer.ggml.tokens`: token strings by id.
    public var tokens: [String]
    /// `tokenizer.ggml.token_type`: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    public var tokenTypes: [Int]?
    /// `tokenizer.ggml.merges`: "left right" lines, highest priority first.
    public var merges: [String]
    /// `tokenizer.ggml.bos_token_id`.
    public var bosTokenID: Int?
    /// `tokenizer.ggml.eos_token_id`.
    public var eosTokenID: Int?
    /// `tokenizer.ggml.padding_token_id`.
    public var paddingTokenID: Int?
    /// `tokenizer.ggml.add_bos_token`.
    public var addBOSToken: Bool?
    /// `tokenizer.ggml.add_eos_token`.
    public var addEOSToken: Bool?
    /// `tokenizer.chat_template`.
    public var chatTemplate: String?

    /// Creates the metadata from the values of the GGUF keys named on each property.
    public init(model: String, pre: String?, tokens: [String], tokenTypes: [Int]?, merges: [String],
                bosTokenID: Int? = nil, eosTokenID: Int? = nil, paddingTokenID: Int? = nil,
                addBOSToken: Bool? = nil, addEOSToken: Bool? = nil, chatTemplate: String? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.tokenTypes = tokenTypes
        self.merges = merges
        self.bosTokenID = bosTokenID
        self.eosTokenID = eosTokenID
        self.paddingTokenID = paddingTokenID
        self.addBOSToken = addBOSToken
        self.addEOSToken = addEOSToken
        self.chatTemplate = chatTemplate
    }

    /// GGUF token type of control (special) tokens.
    static let controlType = 3
    /// GGUF token type of user-defined (added, not special) tokens.
    static let userDefinedType = 4
}

extension TokenizerDefinition {
    /// Builds a definition from GGUF tokenizer metadata. `pre` picks the split rules the way
    /// llama.cpp does, with the settings of the model family's own `tokenizer.json` (so "qwen2"
    /// also gets that file's NFC normalizer, which llama.cpp leaves out).
    public init(gguf metadata: GGUFTokenizerMetadata) throws {
        guard metadata.model == "gpt2" else {
            throw TokenizerError.unsupportedModel("\(metadata.model) (GGUF tokenizer.ggml.model)")
        }
        guard let pre = metadata.pre else {
            throw TokenizerError.unsupportedPreTokenizer("GGUF tokenizer.ggml.pre is missing, so the split rules are unknown")
        }
        var normalizer = Normalizer.none
        var ignoreMerges = false
        let preTokenizer: PreTokenizer
        switch pre {
        case "gpt2":
            preTokenizer = .byteLevel(addPrefixSpace: false, useRegex: true)
        case "smollm", "starcoder":
            preTokenizer = .sequence([.digits(individual: true), .byteLevel(addPrefixSpace: false, useRegex: true)])
        case "llama-bpe", "llama3":
            preTokenizer = .sequence([.split(.llama3), .byteLevel(addPrefixSpace: false, useRegex: false)])
            ignoreMerges = true
        case "qwen2":
            preTokenizer = .sequence([.split(.qwen2), .byteLevel(addPrefixSpace: false, useRegex: false)])
            normalizer = .nfc
        default:
            throw TokenizerError.unsupportedPreTokenizer("GGUF tokenizer.ggml.pre '\(pre)' (known: gpt2, smollm, starcoder, llama-bpe, qwen2)")
        }

        var added = [AddedToken]()
        if let types = metadata.tokenTypes {
            guard types.count == metadata.tokens.count else {
                throw TokenizerError.invalidField(field: "tokenizer.ggml.token_type",
                                                  expected: "\(metadata.tokens.count) entries (one per token), not \(types.count)")
            }
            for (id, type) in types.enumerated() where type == GGUFTokenizerMetadata.controlType || type == GGUFTokenizerMetadata.userDefinedType {
                added.append(AddedToken(content: metadata.tokens[id], id: Int32(id), special: type == GGUFTokenizerMetadata.controlType))
            }
        }

        var merges = [(left: String, right: String)]()
        merges.reserveCapacity(metadata.merges.count)
        for (index, line) in metadata.merges.enumerated() {
            guard let pair = Self.parseMerge(line) else {
                throw TokenizerError.invalidField(field: "tokenizer.ggml.merges[\(index)]", expected: "\"left right\", not '\(line)'")
            }
            merges.append(pair)
        }

        func id(_ value: Int?, _ key: String) throws -> Int32? {
            guard let value else { return nil }
            guard value >= 0 && value < metadata.tokens.count else {
                throw TokenizerError.tokenIDOutOfRange(field: key, id: value, vocabularySize: metadata.tokens.count)
            }
            return Int32(value)
        }
        let bos = try id(metadata.bosTokenID, "tokenizer.ggml.bos_token_id")
        let eos = try id(metadata.eosTokenID, "tokenizer.ggml.eos_token_id")
        func wrapper(_ enabled: Bool?, _ token: Int32?, _ key: String) throws -> [Int32] {
            guard enabled == true else { return [] }
            guard let token else { throw TokenizerError.invalidField(field: key, expected: "a token id, since it is to be added") }
            return [token]
        }
        self.init(tokens: metadata.tokens, merges: merges, addedTokens: added, preTokenizer: preTokenizer,
                  normalizer: normalizer, ignoreMerges: ignoreMerges, bosTokenID: bos, eosTokenID: eos,
                  padTokenID: try id(metadata.paddingTokenID, "tokenizer.ggml.padding_token_id"),
                  prefixTokenIDs: try wrapper(metadata.addBOSToken, bos, "tokenizer.ggml.bos_token_id"),
                  suffixTokenIDs: try wrapper(metadata.addEOSToken, eos, "tokenizer.ggml.eos_token_id"),
                  chatTemplate: metadata.chatTemplate)
    }
}
