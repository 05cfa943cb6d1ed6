/// A tokenizer with one token per character of a small alphabet plus ChatML's two control tokens,
/// for models built from scratch (the quickstart, tests): no download, a vocabulary of a few dozen.
///
/// It is an ordinary byte-level BPE `Tokenizer` without merges, so it renders chats through the
/// same ChatML template path as SmolLM2 or Qwen2. Characters outside the alphabet have no token
/// and are dropped by encoding, as the byte-level tokenizers drop bytes they lack.
public enum CharacterChatTokenizer {
    /// The ChatML template (the layout SmolLM2 and Qwen2 use), without a default system message.
    public static let chatTemplate = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + " +
        "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

    /// Digits, lower-case letters, space, newline and the punctuation of simple arithmetic prompts:
    /// enough to write ChatML role names and arithmetic questions.
    public static let defaultAlphabet = "0123456789abcdefghijklmnopqrstuvwxyz +-*=?.,:\n"

    /// A tokenizer for `alphabet` (ASCII; ids in alphabet order), then `<|im_start|>` and
    /// `<|im_end|>`, which is also the end-of-sequence and padding token.
    public static func make(alphabet: String = defaultAlphabet) throws -> Tokenizer {
        try Tokenizer(definition(alphabet: alphabet))
    }

    /// The definition `make` builds from: what a saved model folder's `tokenizer.json` holds.
    public static func definition(alphabet: String = defaultAlphabet) -> TokenizerDefinition {
        var seen = Set<UInt8>()
        let bytes = Array(alphabet.utf8).filter { seen.insert($0).inserted }
        precondition(bytes.allSatisfy { $0 < 128 }, "CharacterChatTokenizer: the alphabet must be ASCII")
        let characters = bytes.map { ByteLevelAlphabet.encode([$0]) }
        let start = Int32(characters.count), end = Int32(characters.count + 1)
        let added = [AddedToken(content: "<|im_start|>", id: start, special: true),
                     AddedToken(content: "<|im_end|>", id: end, special: true)]
        // The control tokens are in the vocabulary too, as in a GGUF file's, so a saved
        // tokenizer_config.json can name its end-of-sequence token.
        return TokenizerDefinition(tokens: characters + added.map(\.content), merges: [], addedTokens: added,
                                   preTokenizer: .byteLevel(addPrefixSpace: false, useRegex: false),
                                   eosTokenID: end, padTokenID: end, chatTemplate: chatTemplate)
    }
}
