import Foundation

extension TokenizerDefinition {
    /// The definition as a Hugging Face `tokenizer.json` (byte-level BPE: vocabulary, merges, the
    /// pre-tokenizer's split steps, added tokens, a ByteLevel decoder), the inverse of
    /// `init(tokenizerJSON:tokenizerConfig:)`, so a tokenizer that came from GGUF metadata can be
    /// saved as a folder that transformers' `AutoTokenizer` and Temper load with the same ids.
    public func huggingFaceTokenizerJSON() throws -> Data {
        var vocab = [String: Int](minimumCapacity: tokens.count)
        for (id, token) in tokens.enumerated() {
            // A JSON object cannot hold one key twice; two ids with one spelling would silently lose one.
            if let first = vocab[token] {
                throw TokenizerError.invalidField(field: "tokens[\(id)]", expected: "a token spelled differently from tokens[\(first)] ('\(token)')")
            }
            vocab[token] = id
        }
        let model: [String: Any] = [
            "type": "BPE", "dropout": NSNull(), "continuing_subword_prefix": "", "end_of_word_suffix": "",
            "fuse_unk": false, "byte_fallback": false, "ignore_merges": ignoreMerges,
            "unk_token": try unknownTokenID.map { try spelling(of: $0, "unknownTokenID") as Any } ?? NSNull(),
            "vocab": vocab, "merges": merges.map { [$0.left, $0.right] },
        ]
        let root: [String: Any] = [
            "version": "1.0", "truncation": NSNull(), "padding": NSNull(),
            "added_tokens": addedTokens.sorted { $0.id < $1.id }.map { t in
                ["id": Int(t.id), "content": t.content, "single_word": t.singleWord, "lstrip": t.lstrip, "rstrip": t.rstrip,
                 "normalized": !t.special, "special": t.special] as [String: Any]
            },
            "normalizer": normalizer == .nfc ? ["type": "NFC"] as Any : NSNull(),
            "pre_tokenizer": Self.huggingFaceObject(preTokenizer),
            "post_processor": try postProcessorObject(),
            "decoder": ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true] as [String: Any],
            "model": model,
        ]
        return try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// A Hugging Face `tokenizer_config.json`: the special tokens by content, the chat template, and
    /// the class that reads `tokenizer.json` as it is.
    public func huggingFaceTokenizerConfigJSON() throws -> Data {
        var o: [String: Any] = [
            "tokenizer_class": "PreTrainedTokenizerFast",
            "clean_up_tokenization_spaces": false,
        ]
        for (key, id) in [("bos_token", bosTokenID), ("eos_token", eosTokenID), ("pad_token", padTokenID), ("unk_token", unknownTokenID)] {
            if let id { o[key] = try spelling(of: id, key) }
        }
        if let chatTemplate { o["chat_template"] = chatTemplate }
        return try JSONSerialization.data(withJSONObject: o, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// `pre_tokenizer` as `tokenizer.json` spells it (what `parsePreTokenizer` reads back).
    static func huggingFaceObject(_ step: PreTokenizer) -> [String: Any] {
        switch step {
        case let .byteLevel(addPrefixSpace, useRegex):
            return ["type": "ByteLevel", "add_prefix_space": addPrefixSpace, "trim_offsets": true, "use_regex": useRegex]
        case let .digits(individual):
            return ["type": "Digits", "individual_digits": individual]
        case let .split(pattern):
            return ["type": "Split", "pattern": ["Regex": pattern.regexSource], "behavior": "Isolated", "invert": false]
        case let .sequence(steps):
            return ["type": "Sequence", "pretokenizers": steps.map(huggingFaceObject)]
        }
    }

    /// Tokens put around the text (`prefixTokenIDs`, `suffixTokenIDs`) as a `TemplateProcessing`
    /// step; without any, the plain ByteLevel step that adds nothing.
    private func postProcessorObject() throws -> [String: Any] {
        guard !prefixTokenIDs.isEmpty || !suffixTokenIDs.isEmpty else {
            return ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true]
        }
        func special(_ id: Int32) throws -> [String: Any] { ["SpecialToken": ["id": try spelling(of: id, "prefix/suffix token"), "type_id": 0]] }
        func sequence(_ name: String, _ typeID: Int) -> [String: Any] { ["Sequence": ["id": name, "type_id": typeID]] }
        let single = try prefixTokenIDs.map(special) + [sequence("A", 0)] + suffixTokenIDs.map(special)
        let pair = try single + prefixTokenIDs.map(special) + [sequence("B", 1)] + suffixTokenIDs.map(special)
        var specials = [String: Any]()
        for id in Set(prefixTokenIDs + suffixTokenIDs) {
            let token = try spelling(of: id, "prefix/suffix token")
            specials[token] = ["id": token, "ids": [Int(id)], "tokens": [token]] as [String: Any]
        }
        return ["type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": specials]
    }

    /// The spelling of token `id`, or an error naming `field` when the id is outside the vocabulary.
    private func spelling(of id: Int32, _ field: String) throws -> String {
        guard id >= 0 && Int(id) < tokens.count else {
            throw TokenizerError.tokenIDOutOfRange(field: field, id: Int(id), vocabularySize: tokens.count)
        }
        return tokens[Int(id)]
    }
}
