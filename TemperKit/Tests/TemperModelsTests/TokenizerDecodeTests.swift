import XCTest
@testable import TemperModels

/// Decoding: exact byte round trips, special-token skipping, and streaming output that never shows
/// half a character.
final class TokenizerDecodeTests: XCTestCase {
    private static let trickyTexts = [
        "emoji 🤖🚀 family 👨‍👩‍👧 flag 🇫🇷 skin 👍🏽",
        "中文分词测试，日本語のテキスト、한국어 텍스트",
        "combining: e\u{301} a\u{308}\u{323} decomposed vs é precomposed",
        "RTL: مرحبا بالعالم — עברית",
        "whitespace:\u{A0}\u{3000}\u{2028}\u{85}\t\r\n\u{B}\u{C} end   ",
        "math ∑∫√ ²½ Ⅻ and zero-width\u{200B}joiner\u{200D}",
        "<|im_start|>literal special text<|im_end|><|endoftext|>",
        "don't WE'LL ſ's 12345678901234567890",
        String(repeating: "🤖", count: 50) + String(repeating: "a", count: 3000),
    ]

    /// Byte-exact comparison: `String ==` would accept canonically equivalent text.
    private func assertSameBytes(_ a: String, _ b: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Array(a.utf8), Array(b.utf8), "\(a.debugDescription) vs \(b.debugDescription)", file: file, line: line)
    }

    func testDecodeInvertsEncodeOnTrickyUTF8() throws {
        let tokenizer = try TokenizerFixtures.smolTokenizer.get()
        for text in Self.trickyTexts {
            assertSameBytes(tokenizer.decode(tokenizer.encode(text)), text)
            assertSameBytes(tokenizer.decode(tokenizer.encode(text, parseSpecialTokens: false)), text)
        }
    }

    func testSpecialTokensAreSkippedOnRequest() throws {
        let tokenizer = try TokenizerFixtures.smolTokenizer.get()
        let ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>")
        XCTAssertEqual(ids, [1, 4093, 198, 26843, 2])
        XCTAssertEqual(tokenizer.decode(ids, skipSpecialTokens: true), "user\nHi")
        XCTAssertEqual(tokenizer.decode(ids), "<|im_start|>user\nHi<|im_end|>")
    }

    /// SmolLM2 has no token for a few control bytes; like the reference tokenizer they are left out
    /// and the bytes around them merge as neighbours (reference ids from Hugging Face tokenizers).
    func testBytesWithoutTokensAreDroppedAsByTheReference() throws {
        let tokenizer = try TokenizerFixtures.smolTokenizer.get()
        XCTAssertEqual(tokenizer.bytesWithoutToken,
                       [0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1, 0xF1, 0xF2, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF])
        XCTAssertEqual(tokenizer.encode("a\u{04}b"), [81, 82])
        XCTAssertEqual(tokenizer.encode("x\u{04}\u{04}y z"), [104, 105, 1892])
    }

    func testOutOfRangeIDsDecodeToReplacementCharacter() throws {
        let tokenizer = try TokenizerFixtures.smolTokenizer.get()
        XCTAssertEqual(tokenizer.decode([81, 49152, -1, 82]), "a\u{FFFD}\u{FFFD}b")
        XCTAssertEqual(tokenizer.token(for: 49152), nil)
        XCTAssertFalse(tokenizer.isSpecial(-3))
    }

    /// "🤖" is split over three tokens (F0 9F, A4, 96): nothing may be printed until the last one.
    func testStreamingDecoderHoldsBackSplitCharacters() throws {
        let tokenizer = try TokenizerFixtures.smolTokenizer.get()
        let ids: [Int32] = [391, 33777, 15107, 114, 240, 10813, 244, 218, 1112]  // "emoji 🤖🚀 end"
        var decoder = tokenizer.streamingDecoder()
        let chunks = ids.map { decoder.append($0) }
        XCTAssertEqual(chunks, ["em", "oji", " ", "", "🤖", "", "", "🚀", " end"])
        XCTAssertEqual(decoder.finish(), "")
        XCTAssertEqual(tokenizer.decode([15107]), " \u{FFFD}", "a partial sequence decodes without crashing")
    }

    func testStreamingDecoderMatchesDecodeOnEveryPrefix() throws {
        let tokenizer = try TokenizerFixtures.smolTokenizer.get()
        for text in Self.trickyTexts {
            let ids = tokenizer.encode(text)
            var decoder = tokenizer.streamingDecoder()
            var streamed = ""
            for id in ids {
                let chunk = decoder.append(id)
                XCTAssertFalse(chunk.unicodeScalars.contains("\u{FFFD}"), "a chunk of \(text.debugDescription) shows a broken character")
                streamed += chunk
            }
            streamed += decoder.finish()
            assertSameBytes(streamed, text)
        }
    }

    /// Bytes that can never complete a character are flushed as U+FFFD at once, not held forever;
    /// an unfinished character at the end of the stream is flushed by `finish()`.
    func testStreamingDecoderFlushesInvalidBytes() throws {
        let tokenizer = try TokenizerFixtures.smolTokenizer.get()
        let leadE4 = try XCTUnwrap(tokenizer.id(for: ByteLevelAlphabet.encode([0xE4])))
        let letterA = try XCTUnwrap(tokenizer.id(for: "A"))
        let continuation = try XCTUnwrap(tokenizer.id(for: ByteLevelAlphabet.encode([0xB8])))
        var decoder = tokenizer.streamingDecoder()
        XCTAssertEqual(decoder.append(leadE4), "")
        XCTAssertEqual(decoder.append(letterA), "\u{FFFD}A")
        XCTAssertEqual(decoder.append(continuation), "\u{FFFD}")
        XCTAssertEqual(decoder.append(leadE4), "")
        XCTAssertEqual(decoder.append(continuation), "")
        XCTAssertEqual(decoder.finish(), "\u{FFFD}")
        XCTAssertEqual(decoder.finish(), "")
        XCTAssertEqual(decoder.append(contentsOf: tokenizer.encode("中")), "中")
    }

    func testCompletePrefixLengthFollowsUTF8Rules() {
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0x41, 0xF0, 0x9F, 0xA4]), 1)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0x41, 0xF0, 0x9F, 0xA4, 0x96]), 5)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0xE0, 0x80]), 2, "E0 80 is never valid, so it is not held")
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0xED, 0xA0]), 2, "a surrogate is never valid")
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0xC3]), 0)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([0x80, 0x80, 0x80, 0x80]), 4)
        XCTAssertEqual(StreamingDecoder.completePrefixLength([]), 0)
    }
}
