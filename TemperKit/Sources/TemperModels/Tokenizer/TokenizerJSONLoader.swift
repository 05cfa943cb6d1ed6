import Foundation

extension TokenizerDefinition {
    /// Reads a Hugging Face model directory: `tokenizer.json`, plus `tokenizer_config.json` (special
    /// tokens, chat template) and `chat_template.jinja` when present.
    public init(directory: URL) throws {
        let tokenizerURL = directory.appendingPathComponent("tokenizer.json")
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        let templateURL = directory.appendingPathComponent("chat_template.jinja")
        let manager = FileManager.default
        let config = manager.fileExists(atPath: configURL.path) ? try Self.readJSONObject(configURL) : nil
        var template: String? = nil
        if manager.fileExists(atPath: templateURL.path) {
            do { template = try String(contentsOf: templateURL, encoding: .utf8) } catch {
                throw TokenizerError.unreadableFile(path: templateURL.path, reason: "\(error)")
            }
        }
        try self.init(tokenizerJSON: Self.readJSONObject(tokenizerURL), tokenizerConfig: config,
                      chatTemplateFile: template, source: tokenizerURL.path)
    }

    /// Builds a definition from parsed `tokenizer.json` and `tokenizer_config.json` objects;
    /// `chatTemplateFile` (a `chat_template.jinja`) is used when the config has no `chat_template`.
    /// `source` names the file in error messages.
    public init(tokenizerJSON root: [String: Any], tokenizerConfig config: [String: Any]?,
                chatTemplateFile: String? = nil, source: String = "tokenizer.json") throws {
        guard let model = root["model"] as? [String: Any] else {
            throw TokenizerError.invalidField(field: "model", expected: "an object in \(source)")
        }
        let modelType = model["type"] as? String ?? "BPE"
        guard modelType == "BPE" else { throw TokenizerError.unsupportedModel(modelType) }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = model[key] as? String, !affix.isEmpty {
                throw TokenizerError.unsupportedModel("BPE with \(key) '\(affix)'")
            }
        }
        if let dropout = model["dropout"] as? Double, dropout > 0 {
            throw TokenizerError.unsupportedModel("BPE with dropout \(dropout)")
        }

        guard let vocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError.invalidField(field: "model.vocab", expected: "an object of token → id")
        }
        var maxID = -1
        var pairs = [(String, Int)]()
        pairs.reserveCapacity(vocab.count)
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0 else {
                throw TokenizerError.invalidField(field: "model.vocab[\(token)]", expected: "a non-negative integer id")
            }
            pairs.append((token, id))
            maxID = max(maxID, id)
        }
        let added = try Self.parseAddedTokens(root["added_tokens"])
        // Ids number the tokens the file lists; the table is sized by the largest, so a stray id
        // (10^9) must be refused here rather than allocated. Gaps as large as the vocabulary are allowed.
        let limit = Self.idLimit(entries: pairs.count + added.count)
        if let (token, id) = pairs.first(where: { $0.1 >= limit }) {
            throw TokenizerError.invalidField(field: "model.vocab[\(token)]", expected: Self.idExpectation(id, limit: limit, entries: pairs.count + added.count))
        }
        if let (index, token) = added.enumerated().first(where: { Int($0.element.id) >= limit }) {
            throw TokenizerError.invalidField(field: "added_tokens[\(index)]", expected: Self.idExpectation(Int(token.id), limit: limit, entries: pairs.count + added.count))
        }
        maxID = max(maxID, added.map { Int($0.id) }.max() ?? -1)
        var tokens = [String](repeating: "", count: maxID + 1)
        for (token, id) in pairs { tokens[id] = token }

        let merges = try Self.parseMerges(model["merges"])
        let preTokenizer = try Self.parsePreTokenizer(root["pre_tokenizer"], field: "pre_tokenizer")
        let normalizer = try Self.parseNormalizer(root["normalizer"])
        try Self.checkDecoder(root["decoder"])
        let (prefix, suffix) = try Self.parsePostProcessor(root["post_processor"], field: "post_processor")

        var ids = [String: Int32]()
        for (token, id) in pairs { ids[token] = Int32(id) }
        for token in added { ids[token.content] = token.id }
        func specialID(_ key: String) throws -> Int32? {
            guard let value = config?[key], !(value is NSNull) else { return nil }
            let content: String
            if let text = value as? String {
                content = text
            } else if let object = value as? [String: Any], let text = object["content"] as? String {
                content = text
            } else {
                throw TokenizerError.invalidField(field: "tokenizer_config.json \(key)", expected: "a string or {\"content\": …}")
            }
            guard let id = ids[content] else {
                throw TokenizerError.invalidField(field: "tokenizer_config.json \(key)", expected: "a token in the vocabulary, not '\(content)'")
            }
            return id
        }

        var unknown: Int32? = nil
        if let name = model["unk_token"] as? String {
            guard let id = ids[name] else {
                throw TokenizerError.invalidField(field: "model.unk_token", expected: "a token in the vocabulary, not '\(name)'")
            }
            unknown = id
        }
        self.init(tokens: tokens, merges: merges, addedTokens: added, preTokenizer: preTokenizer,
                  normalizer: normalizer, ignoreMerges: model["ignore_merges"] as? Bool ?? false, unknownTokenID: unknown,
                  bosTokenID: try specialID("bos_token"), eosTokenID: try specialID("eos_token"),
                  padTokenID: try specialID("pad_token"), prefixTokenIDs: prefix, suffixTokenIDs: suffix,
                  chatTemplate: try Self.parseChatTemplate(config?["chat_template"]) ?? chatTemplateFile)
    }

    static func readJSONObject(_ url: URL) throws -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data) } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: "invalid JSON (\(error.localizedDescription))")
        }
        guard let dictionary = object as? [String: Any] else {
            throw TokenizerError.unreadableFile(path: url.path, reason: "the top level is not a JSON object")
        }
        return dictionary
    }

    /// The first id a file listing `entries` tokens may not use.
    static func idLimit(entries: Int) -> Int { 2 * entries + 1024 }

    private static func idExpectation(_ id: Int, limit: Int, entries: Int) -> String {
        "an id below \(limit) (the file lists \(entries) tokens), not \(id)"
    }

    private static func parseAddedTokens(_ value: Any?) throws -> [AddedToken] {
        guard let value, !(value is NSNull) else { return [] }
        guard let list = value as? [[String: Any]] else {
            throw TokenizerError.invalidField(field: "added_tokens", expected: "a list of objects")
        }
        return try list.enumerated().map { index, entry in
            guard let id = (entry["id"] as? NSNumber)?.intValue, id >= 0, id <= Int(Int32.max), let content = entry["content"] as? String else {
                throw TokenizerError.invalidField(field: "added_tokens[\(index)]", expected: "an 'id' in 0...\(Int32.max) and a 'content' string")
            }
            return AddedToken(content: content, id: Int32(id), special: entry["special"] as? Bool ?? false,
                              lstrip: entry["lstrip"] as? Bool ?? false, rstrip: entry["rstrip"] as? Bool ?? false,
                              singleWord: entry["single_word"] as? Bool ?? false)
        }
    }

    private static func parseMerges(_ value: Any?) throws -> [(left: String, right: String)] {
        guard let list = value as? [Any] else {
            throw TokenizerError.invalidField(field: "model.merges", expected: "a list of merges")
        }
        var merges = [(left: String, right: String)]()
        merges.reserveCapacity(list.count)
        for (index, entry) in list.enumerated() {
            if let line = entry as? String, let pair = parseMerge(line) {
                merges.append(pair)
            } else if let pair = entry as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else {
                throw TokenizerError.invalidField(field: "model.merges[\(index)]", expected: "\"left right\" or [left, right]")
            }
        }
        return merges
    }

    /// Recognises the pre-tokenizer configurations byte-level BPE tokenizers use; anything else is
    /// an error, because splitting differently would silently give different tokens.
    static func parsePreTokenizer(_ value: Any?, field: String) throws -> PreTokenizer {
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            throw TokenizerError.unsupportedPreTokenizer("\(field) is missing or has no 'type'")
        }
        switch type {
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: object["add_prefix_space"] as? Bool ?? true,
                              useRegex: object["use_regex"] as? Bool ?? true)
        case "Digits":
            return .digits(individual: object["individual_digits"] as? Bool ?? false)
        case "Sequence":
            guard let steps = object["pretokenizers"] as? [Any] else {
                throw TokenizerError.invalidField(field: "\(field).pretokenizers", expected: "a list")
            }
            return .sequence(try steps.enumerated().map { try parsePreTokenizer($1, field: "\(field).pretokenizers[\($0)]") })
        case "Split":
            let pattern = object["pattern"] as? [String: Any]
            guard let regex = pattern?["Regex"] as? String else {
                throw TokenizerError.unsupportedPreTokenizer("\(field): Split with pattern \(String(describing: pattern)) (only known Regex patterns are implemented)")
            }
            guard let known = SplitPattern(regexSource: regex) else {
                throw TokenizerError.unsupportedPreTokenizer("\(field): Split regex \(regex) is not a known GPT-2 / Llama 3 / Qwen2 pattern")
            }
            let behavior = object["behavior"] as? String ?? "Isolated"
            let invert = object["invert"] as? Bool ?? false
            guard behavior == "Isolated", !invert else {
                throw TokenizerError.unsupportedPreTokenizer("\(field): Split behavior \(behavior) invert \(invert) (only Isolated, not inverted)")
            }
            return .split(known)
        default:
            throw TokenizerError.unsupportedPreTokenizer("\(field) of type \(type)")
        }
    }

    private static func parseNormalizer(_ value: Any?) throws -> Normalizer {
        guard let value, !(value is NSNull) else { return .none }
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            throw TokenizerError.unsupportedNormalizer("normalizer without a 'type'")
        }
        switch type {
        case "NFC": return .nfc
        case "Sequence" where (object["normalizers"] as? [Any])?.isEmpty == true: return .none
        default: throw TokenizerError.unsupportedNormalizer("normalizer of type \(type)")
        }
    }

    private static func checkDecoder(_ value: Any?) throws {
        guard let value, !(value is NSNull) else { return }
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            throw TokenizerError.unsupportedDecoder("decoder without a 'type'")
        }
        guard type == "ByteLevel" else { throw TokenizerError.unsupportedDecoder(type) }
    }

    /// The special tokens `TemplateProcessing` puts around a single sequence (`$A`).
    private static func parsePostProcessor(_ value: Any?, field: String) throws -> ([Int32], [Int32]) {
        guard let value, !(value is NSNull) else { return ([], []) }
        guard let object = value as? [String: Any], let type = object["type"] as? String else {
            throw TokenizerError.invalidField(field: field, expected: "an object with a 'type'")
        }
        switch type {
        case "ByteLevel":
            return ([], [])
        case "Sequence":
            var prefix = [Int32](), suffix = [Int32]()
            for (index, step) in ((object["processors"] as? [Any]) ?? []).enumerated() {
                let (p, s) = try parsePostProcessor(step, field: "\(field).processors[\(index)]")
                prefix += p
                suffix = s + suffix
            }
            return (prefix, suffix)
        case "TemplateProcessing":
            guard let single = object["single"] as? [[String: Any]] else {
                throw TokenizerError.invalidField(field: "\(field).single", expected: "a list of pieces")
            }
            let specials = object["special_tokens"] as? [String: Any] ?? [:]
            var prefix = [Int32](), suffix = [Int32]()
            var seenSequence = false
            for piece in single {
                if piece["Sequence"] != nil {
                    seenSequence = true
                    continue
                }
                guard let special = piece["SpecialToken"] as? [String: Any], let name = special["id"] as? String,
                      let entry = specials[name] as? [String: Any], let ids = entry["ids"] as? [NSNumber] else {
                    throw TokenizerError.invalidField(field: "\(field).single", expected: "Sequence or SpecialToken pieces listed in special_tokens")
                }
                let values = ids.map { Int32(truncating: $0) }
                if seenSequence { suffix += values } else { prefix += values }
            }
            return (prefix, suffix)
        default:
            throw TokenizerError.invalidField(field: "\(field).type", expected: "ByteLevel, TemplateProcessing or Sequence, not \(type)")
        }
    }

    /// `chat_template` is a string, or a list of named templates of which "default" is used.
    private static func parseChatTemplate(_ value: Any?) throws -> String? {
        guard let value, !(value is NSNull) else { return nil }
        if let text = value as? String { return text }
        if let list = value as? [[String: Any]] {
            for entry in list where entry["name"] as? String == "default" {
                if let text = entry["template"] as? String { return text }
            }
            throw TokenizerError.invalidField(field: "tokenizer_config.json chat_template", expected: "a list with a template named 'default'")
        }
        throw TokenizerError.invalidField(field: "tokenizer_config.json chat_template", expected: "a string or a list of {name, template}")
    }
}
