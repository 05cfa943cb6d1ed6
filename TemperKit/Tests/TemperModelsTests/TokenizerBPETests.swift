import XCTest
@testable import TemperModels

/// Byte-pair merging and added-token matching on small hand-made vocabularies.
final class TokenizerBPETests: XCTestCase {
    /// The 256 byte tokens, then `extra` tokens, with `merges` over them.
    private func makeTokenizer(extra: [String], merges: [(String, String)], added: [AddedToken] = [],
                               ignoreMerges: Bool = false) throws -> Tokenizer {
        let bytes = (0..<256).map { String(ByteLevelAlphabet.scalarForByte[$0]) }
        return try Tokenizer(TokenizerDefinition(tokens: bytes + extra, merges: merges.map { (left: $0.0, right: $0.1) },
                                                 addedTokens: added, preTokenizer: .byteLevel(addPrefixSpace: false, useRegex: true),
                                                 ignoreMerges: ignoreMerges))
    }

    private func pieces(_ tokenizer: Tokenizer, _ text: String) -> [String] {
        tokenizer.encode(text).map { tokenizer.token(for: $0)! }
    }

    func testMergesApplyByRankLeftmostFirst() throws {
        let tokenizer = try makeTokenizer(extra: ["aa", "aaaa", "bc", "ab", "abc"],
                                          merges: [("a", "a"), ("aa", "aa"), ("b", "c"), ("a", "b"), ("ab", "c")])
        XCTAssertEqual(pieces(tokenizer, "aaa"), ["aa", "a"])
        XCTAssertEqual(pieces(tokenizer, "aaaa"), ["aaaa"])
        XCTAssertEqual(pieces(tokenizer, "aaaaa"), ["aaaa", "a"])
        XCTAssertEqual(pieces(tokenizer, "abc"), ["a", "bc"], "b+c outranks a+b")
        XCTAssertEqual(pieces(tokenizer, "ab"), ["ab"])
        XCTAssertEqual(pieces(tokenizer, "ab abc"), ["ab", "Ġ", "a", "bc"])
    }

    func testIgnoreMergesEmitsWholeVocabularyWords() throws {
        let extra = ["bc", "abc"]
        let merges = [("b", "c")]
        XCTAssertEqual(pieces(try makeTokenizer(extra: extra, merges: merges), "abc"), ["a", "bc"])
        XCTAssertEqual(pieces(try makeTokenizer(extra: extra, merges: merges, ignoreMerges: true), "abc"), ["abc"])
    }

    /// The heap-based merger must agree with the textbook loop (merge the best-ranked, leftmost pair,
    /// repeat) on random merge tables and words, including words thousands of bytes long.
    func testHeapMergingMatchesTheReferenceLoop() throws {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5 {
            // Distinct pairs of existing tokens; different pairs may spell the same merged token.
            var vocabulary = ["a", "b", "c"]
            var merges = [(String, String)]()
            var seenPairs = Set<String>()
            while merges.count < 40 {
                let left = vocabulary.randomElement(using: &rng)!, right = vocabulary.randomElement(using: &rng)!
                guard (left + right).count <= 8, seenPairs.insert(left + " " + right).inserted else { continue }
                merges.append((left, right))
                if !vocabulary.contains(left + right) { vocabulary.append(left + right) }
            }
            let tokenizer = try makeTokenizer(extra: vocabulary.filter { $0.count > 1 }, merges: merges)
            for length in [1, 2, 3, 7, 30, 200, 3000] {
                let word = String((0..<length).map { _ in "abc".randomElement(using: &rng)! })
                XCTAssertEqual(pieces(tokenizer, word), Self.referenceMerge(word, merges), "word \(word.prefix(50))… merges \(merges)")
            }
        }
    }

    private static func referenceMerge(_ word: String, _ merges: [(String, String)]) -> [String] {
        var symbols = word.map { String($0) }
        var ranks = [String: Int]()
        for (rank, merge) in merges.enumerated() where ranks[merge.0 + " " + merge.1] == nil { ranks[merge.0 + " " + merge.1] = rank }
        while symbols.count > 1 {
            var best: (rank: Int, index: Int)? = nil
            for i in 0..<(symbols.count - 1) {
                if let rank = ranks[symbols[i] + " " + symbols[i + 1]], best == nil || rank < best!.rank { best = (rank, i) }
            }
            guard let best else { break }
            symbols[best.index] += symbols[best.index + 1]
            symbols.remove(at: best.index + 1)
        }
        return symbols
    }

    func testAddedTokensLongestMatchAndSpecialParsing() throws {
        let added = [AddedToken(content: "<a>", id: 256, special: true), AddedToken(content: "<a>b", id: 257, special: true),
                     AddedToken(content: "¦¦", id: 258, special: false)]
        let tokenizer = try makeTokenizer(extra: ["<a>", "<a>b", "¦¦"], merges: [], added: added)
        XCTAssertEqual(tokenizer.encode("x<a>by<a>"), [120, 257, 121, 256])
        XCTAssertEqual(tokenizer.encode("x<a>b¦¦", parseSpecialTokens: false),
                       tokenizer.encode("x<a>b", parseSpecialTokens: false) + [258], "non-special added tokens are still matched")
        XCTAssertFalse(tokenizer.encode("<a>", parseSpecialTokens: false).contains(256))
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("<a>b¦¦z")), "<a>b¦¦z")
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("<a>b¦¦z"), skipSpecialTokens: true), "¦¦z")
    }

    func testAddedTokenStripAndSingleWordFlags() throws {
        let added = [AddedToken(content: "<m>", id: 256, special: true, lstrip: true, rstrip: true),
                     AddedToken(content: "cat", id: 257, special: false, singleWord: true)]
        let tokenizer = try makeTokenizer(extra: ["<m>", "cat"], merges: [], added: added)
        XCTAssertEqual(tokenizer.encode("x  <m>\n y"), [120, 256, 121])
        XCTAssertEqual(tokenizer.encode("cat concat cat."), [257] + tokenizer.encode(" concat ", parseSpecialTokens: false).filter { $0 != 257 } + [257, 46])
        XCTAssertFalse(tokenizer.encode("concat").contains(257))
    }

    func testDefinitionErrorsNameTheField() throws {
        XCTAssertThrowsError(try makeTokenizer(extra: [], merges: [("a", "b")])) { error in
            XCTAssertEqual(error as? TokenizerError, .unknownMergeToken(merge: 0, token: "ab"))
        }
        XCTAssertThrowsError(try makeTokenizer(extra: [], merges: [], added: [AddedToken(content: "<x>", id: -2, special: true)])) { error in
            XCTAssertEqual("\(error)", "tokenizer field 'added_tokens': token id -2 is outside the vocabulary of 256 tokens")
        }
        XCTAssertEqual(TokenizerDefinition.parseMerge("Ġ t")?.left, "Ġ")
        XCTAssertEqual(TokenizerDefinition.parseMerge("Ġ t")?.right, "t")
        XCTAssertNil(TokenizerDefinition.parseMerge("nospace"))
        XCTAssertNil(TokenizerDefinition.parseMerge(" x"))
    }
}
