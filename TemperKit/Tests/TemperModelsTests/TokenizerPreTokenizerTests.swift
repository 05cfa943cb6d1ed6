import Foundation
import XCTest
@testable import TemperModels

/// The hand-written split scanners against matches computed with a Unicode regex engine (Python's
/// `regex` module) for the same pattern sources, and the `tokenizer.json` pre-tokenizer parser.
final class TokenizerPreTokenizerTests: XCTestCase {
    private func pieces(_ preTokenizer: PreTokenizer, _ text: String) -> [[UInt8]] {
        let result = preTokenizer.pieces(of: Array(text.utf8))
        return result.ranges.map { Array(result.bytes[$0]) }
    }

    private func assertPieces(_ preTokenizer: PreTokenizer, _ text: String, _ expected: [String],
                              file: StaticString = #filePath, line: UInt = #line) {
        let actual = pieces(preTokenizer, text)
        XCTAssertEqual(actual, expected.map { Array($0.utf8) },
                       "\(preTokenizer) on \(text.debugDescription): got \(actual.map { String(decoding: $0, as: UTF8.self) })",
                       file: file, line: line)
    }

    func testGPT2Pattern() {
        let p = PreTokenizer.split(.gpt2)
        assertPieces(p, "I'LL don't  we'Re\tgo", ["I", "'", "LL", " don", "'t", " ", " we", "'", "Re", "\t", "go"])
        assertPieces(p, "12345 + 6789=0", ["12345", " +", " 6789", "=", "0"])
        assertPieces(p, "  x \n\n  y\r\n z   ", [" ", " x", " \n\n ", " y", "\r\n", " z", "   "])
        assertPieces(p, "(hello) 'world' !?..", ["(", "hello", ")", " '", "world", "'", " !?.."])
        assertPieces(p, "naïve e\u{301} 中文 ²½", ["naïve", " e", "\u{301}", " 中文", " ²½"])
        assertPieces(p, "\u{A0}a\u{3000}b \u{2028}c", ["\u{A0}", "a", "\u{3000}", "b", " ", "\u{2028}", "c"])
        assertPieces(p, "", [])
    }

    func testLlama3Pattern() {
        let p = PreTokenizer.split(.llama3)
        assertPieces(p, "I'LL don't  we'Re\tgo", ["I", "'LL", " don", "'t", " ", " we", "'Re", "\tgo"])
        assertPieces(p, "12345 + 6789=0", ["123", "45", " +", " ", "678", "9", "=", "0"])
        assertPieces(p, "  x \n\n  y\r\n z   ", [" ", " x", " \n\n", " ", " y", "\r\n", " z", "   "])
        assertPieces(p, "(hello) 'world' !?..", ["(hello", ")", " '", "world", "'", " !?.."])
        assertPieces(p, "naïve e\u{301} 中文 ²½", ["naïve", " e", "\u{301}", " 中文", " ", "²½"])
        assertPieces(p, "\u{A0}a\u{3000}b \u{2028}c", ["\u{A0}a", "\u{3000}b", " ", "\u{2028}c"])
    }

    func testQwen2PatternSplitsEveryDigit() {
        let p = PreTokenizer.split(.qwen2)
        assertPieces(p, "12345 + 6789=0", ["1", "2", "3", "4", "5", " +", " ", "6", "7", "8", "9", "=", "0"])
        assertPieces(p, "naïve e\u{301} 中文 ²½", ["naïve", " e", "\u{301}", " 中文", " ", "²", "½"])
        assertPieces(p, "I'LL don't  we'Re\tgo", ["I", "'LL", " don", "'t", " ", " we", "'Re", "\tgo"])
    }

    func testDigitsAndByteLevelOptions() {
        assertPieces(.digits(individual: true), "ab12 3", ["ab", "1", "2", " ", "3"])
        assertPieces(.digits(individual: false), "ab12 3", ["ab", "12", " ", "3"])
        assertPieces(.byteLevel(addPrefixSpace: true, useRegex: true), "Hi there", [" Hi", " there"])
        assertPieces(.byteLevel(addPrefixSpace: true, useRegex: false), " Hi there", [" Hi there"])
        assertPieces(.byteLevel(addPrefixSpace: false, useRegex: false), "Hi there", ["Hi there"])
        assertPieces(.sequence([.digits(individual: true), .byteLevel(addPrefixSpace: true, useRegex: false)]),
                     "a1", [" a", " 1"])
    }

    func testRecognisesTheTokenizerJSONConfigurations() throws {
        func parse(_ json: String) throws -> PreTokenizer {
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
            return try TokenizerDefinition.parsePreTokenizer(object, field: "pre_tokenizer")
        }
        for pattern in SplitPattern.allCases {
            let escaped = String(data: try JSONSerialization.data(withJSONObject: [pattern.regexSource], options: .withoutEscapingSlashes),
                                 encoding: .utf8)!.dropFirst().dropLast()
            XCTAssertEqual(try parse(#"{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"#
                                     + escaped + #"},"behavior":"Isolated","invert":false},{"type":"ByteLevel","add_prefix_space":false,"use_regex":false}]}"#),
                           .sequence([.split(pattern), .byteLevel(addPrefixSpace: false, useRegex: false)]))
        }
        XCTAssertEqual(try parse(#"{"type":"Sequence","pretokenizers":[{"type":"Digits","individual_digits":true},{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}]}"#),
                       .sequence([.digits(individual: true), .byteLevel(addPrefixSpace: false, useRegex: true)]))
    }

    func testUnknownPreTokenizersAreErrors() throws {
        func parseError(_ json: String) -> TokenizerError? {
            do {
                _ = try TokenizerDefinition.parsePreTokenizer(try JSONSerialization.jsonObject(with: Data(json.utf8)), field: "pre_tokenizer")
                return nil
            } catch { return error as? TokenizerError }
        }
        XCTAssertEqual(parseError(#"{"type":"Metaspace","replacement":"▁"}"#), .unsupportedPreTokenizer("pre_tokenizer of type Metaspace"))
        XCTAssertEqual(parseError(#"{"type":"Sequence","pretokenizers":[{"type":"Split","pattern":{"Regex":"\\w+"},"behavior":"Isolated","invert":false}]}"#),
                       .unsupportedPreTokenizer(#"pre_tokenizer.pretokenizers[0]: Split regex \w+ is not a known GPT-2 / Llama 3 / Qwen2 pattern"#))
        XCTAssertEqual(parseError(#"{"type":"Split","pattern":{"Regex":"\\s+(?!\\S)|\\s+"},"behavior":"Removed","invert":false}"#),
                       .unsupportedPreTokenizer(#"pre_tokenizer: Split regex \s+(?!\S)|\s+ is not a known GPT-2 / Llama 3 / Qwen2 pattern"#))
        XCTAssertEqual(parseError(#"{"type":"Split","pattern":{"Regex":"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},"behavior":"Removed","invert":false}"#),
                       .unsupportedPreTokenizer("pre_tokenizer: Split behavior Removed invert false (only Isolated, not inverted)"))
        XCTAssertThrowsError(try TokenizerDefinition.parsePreTokenizer(NSNull(), field: "pre_tokenizer")) { error in
            XCTAssertEqual(error as? TokenizerError, .unsupportedPreTokenizer("pre_tokenizer is missing or has no 'type'"))
        }
    }

    /// A tokenizer.json whose parts are not byte-level BPE must be refused with the part named.
    func testUnsupportedTokenizerJSONPartsAreErrors() throws {
        var root = try TokenizerFixtures.smolTokenizerJSON.get()
        func loadError(_ edit: (inout [String: Any]) -> Void) -> String {
            var copy = root
            edit(&copy)
            do {
                _ = try Tokenizer(TokenizerDefinition(tokenizerJSON: copy, tokenizerConfig: nil))
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(loadError { $0["normalizer"] = ["type": "NFKC"] }, "unsupported normalizer: normalizer of type NFKC")
        XCTAssertEqual(loadError { $0["decoder"] = ["type": "Metaspace"] }, "unsupported decoder: Metaspace (only ByteLevel is implemented)")
        XCTAssertEqual(loadError { $0["pre_tokenizer"] = ["type": "Digits", "individual_digits": true] },
                       "unsupported pre-tokenizer: digits(individual: true) has no ByteLevel step, but only byte-level BPE is implemented")
        XCTAssertEqual(loadError { var model = $0["model"] as! [String: Any]; model["type"] = "Unigram"; $0["model"] = model },
                       "unsupported tokenizer model 'Unigram': only byte-level BPE is implemented")
        XCTAssertEqual(loadError { $0["model"] = nil }, "tokenizer field 'model': expected an object in tokenizer.json")
        // A stray id would size the token table: refused before anything is allocated (issue 15).
        let listed = (root["model"] as! [String: Any])["vocab"] as! [String: Any]
        let entries = listed.count + (root["added_tokens"] as! [Any]).count
        let withStray = entries + 1
        XCTAssertEqual(loadError { var model = $0["model"] as! [String: Any]; var vocab = model["vocab"] as! [String: Any]
                                   vocab["stray token"] = 1_000_000_000; model["vocab"] = vocab; $0["model"] = model },
                       "tokenizer field 'model.vocab[stray token]': expected an id below \(2 * withStray + 1024) (the file lists \(withStray) tokens), not 1000000000")
        XCTAssertEqual(loadError { var added = $0["added_tokens"] as! [[String: Any]]; added[0]["id"] = 1_000_000_000; $0["added_tokens"] = added },
                       "tokenizer field 'added_tokens[0]': expected an id below \(2 * entries + 1024) (the file lists \(entries) tokens), not 1000000000")
        XCTAssertEqual(loadError { var added = $0["added_tokens"] as! [[String: Any]]; added[0]["id"] = 1 << 40; $0["added_tokens"] = added },
                       "tokenizer field 'added_tokens[0]': expected an 'id' in 0...2147483647 and a 'content' string")
        root["post_processor"] = ["type": "RobertaProcessing"]
        XCTAssertEqual(loadError { _ in }, "tokenizer field 'post_processor.type': expected ByteLevel, TemplateProcessing or Sequence, not RobertaProcessing")
        XCTAssertThrowsError(try Tokenizer(directory: URL(fileURLWithPath: "/nonexistent-dir"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot read tokenizer file /nonexistent-dir/tokenizer.json"), "\(error)")
        }
    }

    /// A Llama 3 style post-processor puts BOS in front when special tokens are added.
    func testTemplateProcessingGivesPrefixTokens() throws {
        var root = try TokenizerFixtures.smolTokenizerJSON.get()
        root["post_processor"] = [
            "type": "Sequence",
            "processors": [
                ["type": "ByteLevel"],
                ["type": "TemplateProcessing",
                 "single": [["SpecialToken": ["id": "<|im_start|>", "type_id": 0]], ["Sequence": ["id": "A", "type_id": 0]]],
                 "special_tokens": ["<|im_start|>": ["id": "<|im_start|>", "ids": [1], "tokens": ["<|im_start|>"]]]],
            ],
        ]
        let tokenizer = try Tokenizer(TokenizerDefinition(tokenizerJSON: root, tokenizerConfig: nil))
        XCTAssertEqual(tokenizer.prefixTokenIDs, [1])
        XCTAssertEqual(tokenizer.encode("Hello, world!", addSpecialTokens: true), [1, 19556, 28, 905, 17])
        XCTAssertEqual(tokenizer.encode("Hello, world!"), [19556, 28, 905, 17])
    }
}
