import Foundation
import XCTest
@testable import TemperModels

/// Token ids must equal what Hugging Face transformers produced for SmolLM2 (no BOS added).
final class TokenizerFixtureTests: XCTestCase {
    func testTokenizerJSONReproducesEveryReferenceString() throws {
        let tokenizer = try TokenizerFixtures.smolTokenizer.get()
        let cases = try TokenizerFixtures.smolCases().filter { $0.text != nil }
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        for testCase in cases {
            let text = testCase.text!
            XCTAssertEqual(tokenizer.encode(text), testCase.ids, "encoding \(text.debugDescription)")
            XCTAssertEqual(tokenizer.decode(testCase.ids), text, "decoding the ids of \(text.debugDescription)")
        }
    }

    func testTokenizerJSONReproducesEveryReferenceChat() throws {
        let tokenizer = try TokenizerFixtures.smolTokenizer.get()
        let cases = try TokenizerFixtures.smolCases().filter { $0.chat != nil }
        XCTAssertGreaterThanOrEqual(cases.count, 2)
        for testCase in cases {
            let rendered = try tokenizer.applyChatTemplate(testCase.chat!, addGenerationPrompt: true)
            XCTAssertEqual(rendered, testCase.rendered)
            XCTAssertEqual(try tokenizer.encodeChat(testCase.chat!, addGenerationPrompt: true), testCase.ids)
            XCTAssertEqual(tokenizer.encode(rendered), testCase.ids)
        }
    }

    func testSpecialTokensAndTemplateComeFromTheModelDirectory() throws {
        let tokenizer = try TokenizerFixtures.smolTokenizer.get()
        XCTAssertEqual(tokenizer.vocabularySize, 49152)
        XCTAssertEqual(tokenizer.bosTokenID, 1)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
        XCTAssertEqual(tokenizer.padTokenID, 2)
        XCTAssertEqual(tokenizer.prefixTokenIDs, [])
        XCTAssertEqual(tokenizer.encode("Hi", addSpecialTokens: true), tokenizer.encode("Hi"))
        XCTAssertEqual(try tokenizer.chatTemplate(),
                       .chatML(defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        XCTAssertTrue(tokenizer.isSpecial(2))
        XCTAssertFalse(tokenizer.isSpecial(17))
        XCTAssertEqual(tokenizer.token(for: 2), "<|im_end|>")
        XCTAssertEqual(tokenizer.id(for: "Ġthe"), tokenizer.encode(" the").first)
    }

    /// The same vocabulary fed as GGUF metadata (`tokenizer.ggml.pre = "smollm"`: digits split one by
    /// one, then the GPT-2 pattern) must give the same ids.
    func testGGUFMetadataRouteReproducesEveryReferenceCase() throws {
        let metadata = try Self.smolGGUFMetadata()
        let tokenizer = try Tokenizer(TokenizerDefinition(gguf: metadata))
        for testCase in try TokenizerFixtures.smolCases() {
            if let text = testCase.text {
                XCTAssertEqual(tokenizer.encode(text), testCase.ids, "encoding \(text.debugDescription)")
            } else {
                XCTAssertEqual(try tokenizer.encodeChat(testCase.chat!), testCase.ids)
            }
        }
        XCTAssertEqual(tokenizer.bosTokenID, 1)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
        XCTAssertEqual(tokenizer.prefixTokenIDs, [1])
        XCTAssertEqual(tokenizer.encode("Hi", addSpecialTokens: true), [1] + tokenizer.encode("Hi"))
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("<|im_start|>a 1"), skipSpecialTokens: true), "a 1")
    }

    func testGGUFMetadataErrorsNameTheKey() throws {
        var metadata = try Self.smolGGUFMetadata()
        metadata.pre = "mystery-pre"
        XCTAssertThrowsError(try TokenizerDefinition(gguf: metadata)) { error in
            XCTAssertEqual(error as? TokenizerError,
                           .unsupportedPreTokenizer("GGUF tokenizer.ggml.pre 'mystery-pre' (known: gpt2, smollm, starcoder, llama-bpe, qwen2)"))
        }
        metadata = try Self.smolGGUFMetadata()
        metadata.model = "llama"
        XCTAssertThrowsError(try TokenizerDefinition(gguf: metadata)) { error in
            XCTAssertEqual("\(error)", "unsupported tokenizer model 'llama (GGUF tokenizer.ggml.model)': only byte-level BPE is implemented")
        }
        metadata = try Self.smolGGUFMetadata()
        metadata.tokenTypes = [1, 2]
        XCTAssertThrowsError(try TokenizerDefinition(gguf: metadata)) { error in
            XCTAssertEqual(error as? TokenizerError, .invalidField(field: "tokenizer.ggml.token_type",
                                                                    expected: "49152 entries (one per token), not 2"))
        }
        metadata = try Self.smolGGUFMetadata()
        metadata.eosTokenID = 49152
        XCTAssertThrowsError(try TokenizerDefinition(gguf: metadata)) { error in
            XCTAssertEqual(error as? TokenizerError,
                           .tokenIDOutOfRange(field: "tokenizer.ggml.eos_token_id", id: 49152, vocabularySize: 49152))
        }
        metadata = try Self.smolGGUFMetadata()
        metadata.merges[5] = "Ġ zzzunknown"
        XCTAssertThrowsError(try Tokenizer(TokenizerDefinition(gguf: metadata))) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownMergeToken(merge: 5, token: "zzzunknown"))
        }
    }

    /// An NFC normalizer (Qwen2's) makes decomposed and precomposed text encode alike.
    func testNFCNormalizerComposesBeforeSplitting() throws {
        var root = try TokenizerFixtures.smolTokenizerJSON.get()
        let plain = try TokenizerFixtures.smolTokenizer.get()
        XCTAssertNotEqual(plain.encode("cafe\u{301}"), plain.encode("caf\u{E9}"))
        root["normalizer"] = ["type": "NFC"]
        let nfc = try Tokenizer(TokenizerDefinition(tokenizerJSON: root, tokenizerConfig: nil))
        XCTAssertEqual(nfc.encode("cafe\u{301} <|im_end|>"), plain.encode("caf\u{E9} <|im_end|>"))
    }

    /// `tokenizer_config.json` may give special tokens as objects and templates as a named list.
    func testTokenizerConfigVariants() throws {
        let root = try TokenizerFixtures.smolTokenizerJSON.get()
        let config: [String: Any] = [
            "bos_token": ["content": "<|endoftext|>", "special": true],
            "eos_token": "<|im_end|>",
            "pad_token": NSNull(),
            "chat_template": [["name": "tool_use", "template": "{{ tools }}"],
                              ["name": "default", "template": TokenizerChatTemplateTests.chatMLTemplate]],
        ]
        let tokenizer = try Tokenizer(TokenizerDefinition(tokenizerJSON: root, tokenizerConfig: config))
        XCTAssertEqual(tokenizer.bosTokenID, 0)
        XCTAssertEqual(tokenizer.eosTokenID, 2)
        XCTAssertNil(tokenizer.padTokenID)
        XCTAssertEqual(try tokenizer.chatTemplate(), .chatML(defaultSystemPrompt: nil))
        XCTAssertThrowsError(try TokenizerDefinition(tokenizerJSON: root, tokenizerConfig: ["eos_token": "<|nope|>"])) { error in
            XCTAssertEqual("\(error)", "tokenizer field 'tokenizer_config.json eos_token': expected a token in the vocabulary, not '<|nope|>'")
        }
    }

    /// GGUF metadata as llama.cpp's converter writes it for SmolLM2, rebuilt from `tokenizer.json`.
    static func smolGGUFMetadata() throws -> GGUFTokenizerMetadata {
        let root = try TokenizerFixtures.smolTokenizerJSON.get()
        let model = try XCTUnwrap(root["model"] as? [String: Any])
        let vocab = try XCTUnwrap(model["vocab"] as? [String: NSNumber])
        var tokens = [String](repeating: "", count: vocab.count)
        for (token, id) in vocab { tokens[id.intValue] = token }
        let added = try XCTUnwrap(root["added_tokens"] as? [[String: Any]])
        var types = [Int](repeating: 1, count: tokens.count)
        for entry in added { types[(entry["id"] as! NSNumber).intValue] = 3 }
        let merges = try XCTUnwrap(model["merges"] as? [[String]]).map { $0.joined(separator: " ") }
        let template = try String(contentsOf: TokenizerFixtures.tinyLlamaDirectory.appendingPathComponent("chat_template.jinja"),
                                  encoding: .utf8)
        return GGUFTokenizerMetadata(model: "gpt2", pre: "smollm", tokens: tokens, tokenTypes: types, merges: merges,
                                     bosTokenID: 1, eosTokenID: 2, paddingTokenID: 2, addBOSToken: true,
                                     addEOSToken: false, chatTemplate: template)
    }
}
