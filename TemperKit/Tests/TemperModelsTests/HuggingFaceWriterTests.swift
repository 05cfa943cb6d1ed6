import Foundation
import XCTest
@testable import TemperModels

/// The Hugging Face writers (`tokenizer.json`, `tokenizer_config.json`, `generation_config.json`)
/// read back by the readers give the same tokenizer and settings they were written from.
final class HuggingFaceWriterTests: XCTestCase {
    private func reread(_ definition: TokenizerDefinition) throws -> TokenizerDefinition {
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: definition.huggingFaceTokenizerJSON()) as? [String: Any])
        let config = try XCTUnwrap(try JSONSerialization.jsonObject(with: definition.huggingFaceTokenizerConfigJSON()) as? [String: Any])
        return try TokenizerDefinition(tokenizerJSON: json, tokenizerConfig: config, source: "written tokenizer.json")
    }

    private func assertSameDefinition(_ a: TokenizerDefinition, _ b: TokenizerDefinition, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.tokens, b.tokens, file: file, line: line)
        XCTAssertEqual(a.merges.map { [$0.left, $0.right] }, b.merges.map { [$0.left, $0.right] }, file: file, line: line)
        XCTAssertEqual(a.addedTokens, b.addedTokens, file: file, line: line)
        XCTAssertEqual(a.preTokenizer, b.preTokenizer, file: file, line: line)
        XCTAssertEqual(a.normalizer, b.normalizer, file: file, line: line)
        XCTAssertEqual(a.ignoreMerges, b.ignoreMerges, file: file, line: line)
        XCTAssertEqual([a.unknownTokenID, a.bosTokenID, a.eosTokenID, a.padTokenID], [b.unknownTokenID, b.bosTokenID, b.eosTokenID, b.padTokenID],
                       file: file, line: line)
        XCTAssertEqual(a.prefixTokenIDs, b.prefixTokenIDs, file: file, line: line)
        XCTAssertEqual(a.suffixTokenIDs, b.suffixTokenIDs, file: file, line: line)
        XCTAssertEqual(a.chatTemplate, b.chatTemplate, file: file, line: line)
    }

    func testSmolLM2TokenizerRoundTripsWithTheReferenceIDs() throws {
        let original = try TokenizerDefinition(directory: TokenizerFixtures.tinyLlamaDirectory)
        let written = try reread(original)
        assertSameDefinition(written, original)
        let tokenizer = try Tokenizer(written)
        for testCase in try TokenizerFixtures.smolCases() {
            if let text = testCase.text {
                XCTAssertEqual(tokenizer.encode(text), testCase.ids, text.debugDescription)
            } else {
                XCTAssertEqual(try tokenizer.encodeChat(testCase.chat!), testCase.ids)
            }
        }
    }

    /// Llama 3 / Qwen2 shapes: a Split regex, NFC, ignore_merges, BOS and EOS put around the text.
    func testSplitPatternsNormalizerAndAddedSpecialTokensRoundTrip() throws {
        var definition = try TokenizerDefinition(directory: TokenizerFixtures.tinyLlamaDirectory)
        for pattern in SplitPattern.allCases {
            definition.preTokenizer = .sequence([.split(pattern), .byteLevel(addPrefixSpace: false, useRegex: false)])
            definition.normalizer = .nfc
            definition.ignoreMerges = true
            definition.unknownTokenID = 0
            definition.prefixTokenIDs = [1]
            definition.suffixTokenIDs = [2]
            let written = try reread(definition)
            assertSameDefinition(written, definition)
            let tokenizer = try Tokenizer(written)
            XCTAssertEqual(tokenizer.encode("Hi 123", addSpecialTokens: true), [1] + tokenizer.encode("Hi 123") + [2])
        }
    }

    func testTokensSpelledTwiceAndIDsOutsideTheVocabularyAreErrors() throws {
        var definition = try TokenizerDefinition(directory: TokenizerFixtures.tinyLlamaDirectory)
        definition.tokens[20] = definition.tokens[19]
        XCTAssertThrowsError(try definition.huggingFaceTokenizerJSON()) {
            XCTAssertEqual("\($0)", "tokenizer field 'tokens[20]': expected a token spelled differently from tokens[19] ('\(definition.tokens[19])')")
        }
        definition = try TokenizerDefinition(directory: TokenizerFixtures.tinyLlamaDirectory)
        definition.padTokenID = 49152
        XCTAssertThrowsError(try definition.huggingFaceTokenizerConfigJSON()) {
            XCTAssertEqual("\($0)", "tokenizer field 'pad_token': token id 49152 is outside the vocabulary of 49152 tokens")
        }
    }

    func testGenerationConfigCarriesTheSpecialTokens() throws {
        func object(_ c: ModelConfig, pad: Int?) throws -> NSDictionary {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: c.huggingFaceGenerationConfigJSON(padTokenId: pad)) as? NSDictionary)
        }
        var config = ModelConfig(vocabSize: 10, hiddenSize: 8, intermediateSize: 16, numHiddenLayers: 1, numAttentionHeads: 2,
                                 bosTokenId: 1, eosTokenIds: [2])
        XCTAssertEqual(try object(config, pad: 2), ["bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2])
        config.eosTokenIds = [2, 7]
        config.bosTokenId = nil
        XCTAssertEqual(try object(config, pad: nil), ["eos_token_id": [2, 7]])
    }
}
