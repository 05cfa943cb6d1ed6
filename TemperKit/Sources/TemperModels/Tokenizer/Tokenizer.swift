import Foundation

/// A byte-level BPE tokenizer (GPT-2, Llama 3, Qwen2, SmolLM2 families): text → token ids and back.
///
/// Encoding matches Hugging Face `tokenizers` token for token: added tokens are found first
/// (longest match), the remaining text is normalized and pre-tokenized, and each word is merged
/// independently (with a per-call cache, since words repeat). Decoding maps tokens back to bytes,
/// so `decode(encode(s)) == s` for every string whose normalization is the identity.
public final class Tokenizer: Sendable {
    /// Number of token ids (the largest id plus one).
    public let vocabularySize: Int
    /// Beginning-of-sequence token, if any.
    public let bosTokenID: Int32?
    /// End-of-sequence token (the default stop token), if any.
    public let eosTokenID: Int32?
    /// Padding token, if any.
    public let padTokenID: Int32?
    /// Tokens `encode(_:addSpecialTokens: true)` puts before the text.
    public let prefixTokenIDs: [Int32]
    /// Tokens `encode(_:addSpecialTokens: true)` puts after the text.
    public let suffixTokenIDs: [Int32]
    /// The Jinja chat template source shipped with the model, if any.
    public let chatTemplateSource: String?
    /// The added tokens, in id order.
    public let addedTokens: [AddedToken]
    /// Bytes the vocabulary has no token for. Like the reference implementation, encoding drops them
    /// (or writes the unknown token, if the model has one); a text containing them does not
    /// round-trip. For SmolLM2 these are six C0 control bytes and bytes that never occur in UTF-8.
    public let bytesWithoutToken: [UInt8]

    private let tokenStrings: [String]
    private let tokenIDs: [String: Int32]
    private let tokenBytes: [[UInt8]]
    private let specialFlags: [Bool]
    private let model: BytePairModel
    private let matcher: AddedTokenMatcher
    private let preTokenizer: PreTokenizer
    private let normalizer: TokenizerDefinition.Normalizer

    /// Builds a tokenizer, checking that every merge, byte and special id refers to the vocabulary.
    public init(_ definition: TokenizerDefinition) throws {
        guard definition.preTokenizer.containsByteLevel else {
            throw TokenizerError.unsupportedPreTokenizer(
                "\(definition.preTokenizer) has no ByteLevel step, but only byte-level BPE is implemented")
        }
        var strings = definition.tokens
        let idLimit = TokenizerDefinition.idLimit(entries: strings.count + definition.addedTokens.count)
        for added in definition.addedTokens {
            guard added.id >= 0, Int(added.id) < idLimit else {
                throw TokenizerError.tokenIDOutOfRange(field: "added_tokens", id: Int(added.id), vocabularySize: strings.count)
            }
            if Int(added.id) >= strings.count {
                strings.append(contentsOf: repeatElement("", count: Int(added.id) + 1 - strings.count))
            }
            strings[Int(added.id)] = added.content
        }
        guard !strings.isEmpty else { throw TokenizerError.invalidField(field: "vocab", expected: "a non-empty vocabulary") }
        let size = strings.count

        var ids = [String: Int32](minimumCapacity: size)
        for (id, token) in strings.enumerated() where !token.isEmpty && ids[token] == nil { ids[token] = Int32(id) }

        var byteTokens = [Int32](repeating: -1, count: 256)
        var missing = [UInt8]()
        for byte in 0..<256 {
            if let id = ids[String(ByteLevelAlphabet.scalarForByte[byte])] { byteTokens[byte] = id } else { missing.append(UInt8(byte)) }
        }

        var mergeTable = [UInt64: UInt64](minimumCapacity: definition.merges.count)
        for (rank, merge) in definition.merges.enumerated() {
            guard let left = ids[merge.left] else { throw TokenizerError.unknownMergeToken(merge: rank, token: merge.left) }
            guard let right = ids[merge.right] else { throw TokenizerError.unknownMergeToken(merge: rank, token: merge.right) }
            guard let merged = ids[merge.left + merge.right] else {
                throw TokenizerError.unknownMergeToken(merge: rank, token: merge.left + merge.right)
            }
            let key = BytePairModel.key(left, right)
            if mergeTable[key] == nil { mergeTable[key] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged)) }
        }

        var special = [Bool](repeating: false, count: size)
        var addedIDs = Set<Int32>()
        for added in definition.addedTokens {
            addedIDs.insert(added.id)
            if added.special { special[Int(added.id)] = true }
        }
        let bytes: [[UInt8]] = strings.enumerated().map { id, token in
            addedIDs.contains(Int32(id)) ? Array(token.utf8) : (ByteLevelAlphabet.decode(token) ?? Array(token.utf8))
        }

        var wholeWords: [[UInt8]: Int32]? = nil
        if definition.ignoreMerges {
            var table = [[UInt8]: Int32](minimumCapacity: size)
            for (id, word) in bytes.enumerated() where !addedIDs.contains(Int32(id)) && !strings[id].isEmpty {
                if table[word] == nil { table[word] = Int32(id) }
            }
            wholeWords = table
        }

        func checked(_ id: Int32?, _ field: String) throws -> Int32? {
            guard let id else { return nil }
            guard id >= 0 && Int(id) < size else {
                throw TokenizerError.tokenIDOutOfRange(field: field, id: Int(id), vocabularySize: size)
            }
            return id
        }
        let unknown = try checked(definition.unknownTokenID, "unk_token")
        bosTokenID = try checked(definition.bosTokenID, "bos_token_id")
        eosTokenID = try checked(definition.eosTokenID, "eos_token_id")
        padTokenID = try checked(definition.padTokenID, "pad_token_id")
        prefixTokenIDs = try definition.prefixTokenIDs.map { try checked($0, "post_processor")! }
        suffixTokenIDs = try definition.suffixTokenIDs.map { try checked($0, "post_processor")! }

        vocabularySize = size
        tokenStrings = strings
        tokenIDs = ids
        tokenBytes = bytes
        specialFlags = special
        model = BytePairModel(byteTokens: byteTokens, unknownToken: unknown, merges: mergeTable, wholeWords: wholeWords)
        bytesWithoutToken = missing
        matcher = AddedTokenMatcher(tokens: definition.addedTokens)
        preTokenizer = definition.preTokenizer
        normalizer = definition.normalizer
        chatTemplateSource = definition.chatTemplate
        addedTokens = definition.addedTokens.sorted { $0.id < $1.id }
    }

    /// Loads `tokenizer.json` (and `tokenizer_config.json` / `chat_template.jinja` beside it) from a
    /// Hugging Face model directory.
    public convenience init(directory: URL) throws {
        try self.init(TokenizerDefinition(directory: directory))
    }

    /// Token ids of `text`.
    /// - Parameters:
    ///   - parseSpecialTokens: when true, special tokens written in the text (`<|im_end|>`) become
    ///     their ids; turn it off for untrusted user text so it cannot forge control tokens.
    ///     Non-special added tokens are always matched.
    ///   - addSpecialTokens: wrap the result in the model's prefix/suffix tokens (e.g. Llama 3's BOS).
    public func encode(_ text: String, parseSpecialTokens: Bool = true, addSpecialTokens: Bool = false) -> [Int32] {
        encode(text, parseSpecialTokens: parseSpecialTokens, addSpecialTokens: addSpecialTokens, protectedRanges: [])
    }

    /// `encode`, with special tokens not matched inside `protectedRanges` (UTF-8 byte ranges).
    func encode(_ text: String, parseSpecialTokens: Bool, addSpecialTokens: Bool = false,
                protectedRanges: [Range<Int>]) -> [Int32] {
        var output = addSpecialTokens ? prefixTokenIDs : []
        var cache = [[UInt8]: [Int32]]()
        var scratch = BytePairScratch()
        let bytes = Array(text.utf8)
        for segment in matcher.segments(of: bytes, includeSpecial: parseSpecialTokens, protectedRanges: protectedRanges) {
            switch segment {
            case let .token(id):
                output.append(id)
            case let .text(range):
                encodePlain(Array(bytes[range]), into: &output, cache: &cache, scratch: &scratch)
            }
        }
        if addSpecialTokens { output.append(contentsOf: suffixTokenIDs) }
        return output
    }

    private func encodePlain(_ raw: [UInt8], into output: inout [Int32], cache: inout [[UInt8]: [Int32]],
                             scratch: inout BytePairScratch) {
        let bytes: [UInt8]
        switch normalizer {
        case .none: bytes = raw
        case .nfc: bytes = Array(String(decoding: raw, as: UTF8.self).precomposedStringWithCanonicalMapping.utf8)
        }
        let text = preTokenizer.pieces(of: bytes)
        text.bytes.withUnsafeBufferPointer { buffer in
            for range in text.ranges {
                let word = UnsafeBufferPointer(rebasing: buffer[range])
                // Single bytes are a table lookup; caching them would cost more than it saves.
                if word.count == 1 {
                    model.appendByte(word[0], to: &output)
                    continue
                }
                let key = Array(word)
                if let cached = cache[key] {
                    output.append(contentsOf: cached)
                    continue
                }
                let start = output.count
                model.encode(word: word, into: &output, scratch: &scratch)
                cache[key] = Array(output[start...])
            }
        }
    }

    /// The raw bytes of `ids` (special tokens dropped when `skipSpecialTokens`); ids outside the
    /// vocabulary give the UTF-8 of U+FFFD so that they are visible rather than silently lost.
    public func decodeBytes<S: Sequence>(_ ids: S, skipSpecialTokens: Bool = false) -> [UInt8] where S.Element == Int32 {
        var bytes = [UInt8]()
        for id in ids { appendBytes(of: id, skipSpecialTokens: skipSpecialTokens, to: &bytes) }
        return bytes
    }

    /// The text of `ids`; bytes that do not form valid UTF-8 (a token sequence cut inside a
    /// character) become U+FFFD.
    public func decode<S: Sequence>(_ ids: S, skipSpecialTokens: Bool = false) -> String where S.Element == Int32 {
        String(decoding: decodeBytes(ids, skipSpecialTokens: skipSpecialTokens), as: UTF8.self)
    }

    func appendBytes(of id: Int32, skipSpecialTokens: Bool, to bytes: inout [UInt8]) {
        guard id >= 0 && Int(id) < vocabularySize else {
            bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])
            return
        }
        if skipSpecialTokens && specialFlags[Int(id)] { return }
        bytes.append(contentsOf: tokenBytes[Int(id)])
    }

    /// A decoder for token-by-token output that only ever emits complete UTF-8 text.
    public func streamingDecoder(skipSpecialTokens: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skipSpecialTokens: skipSpecialTokens)
    }

    /// The vocabulary string of a token (byte-level spelling; added tokens verbatim), or nil.
    public func token(for id: Int32) -> String? {
        guard id >= 0 && Int(id) < vocabularySize, !tokenStrings[Int(id)].isEmpty else { return nil }
        return tokenStrings[Int(id)]
    }

    /// The id of a vocabulary string (byte-level spelling, or an added token's text), or nil.
    public func id(for token: String) -> Int32? { tokenIDs[token] }

    /// Whether `id` is a special (control) token.
    public func isSpecial(_ id: Int32) -> Bool {
        id >= 0 && Int(id) < vocabularySize && specialFlags[Int(id)]
    }
}
