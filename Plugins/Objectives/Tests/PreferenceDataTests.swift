import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// TRL's preference, unpaired and stepwise rows: reading, tokenizing, truncating, and bad input.
final class PreferenceDataTests: XCTestCase {
    private var tokenizer: Tokenizer!

    override func setUpWithError() throws { tokenizer = try CharacterChatTokenizer.make() }

    private func load(_ lines: [String], options: EncodingOptions = EncodingOptions(), skip: Bool = false) throws -> TokenizedDataset {
        let dir = try makeTemporaryFolder("preference-data")
        let file = dir.appendingPathComponent("data.jsonl")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        return try TokenizedDataset.load(path: file.path, encoder: ExampleEncoder(tokenizer: tokenizer, options: options), skipInvalidRows: skip)
    }

    private func ids(_ text: String) -> [Int32] { tokenizer.encode(text, parseSpecialTokens: false, addSpecialTokens: true) }

    func testExplicitAndImplicitPromptsGiveTheSamePair() throws {
        let eos = tokenizer.eosTokenID!
        let explicit = try load([#"{"prompt": "2+2=", "chosen": "4", "rejected": "5", "margin": 1.5}"#]).examples[0]
        XCTAssertEqual(explicit.ids, ids("2+2=4") + [eos])
        XCTAssertEqual(explicit.rejected?.ids, ids("2+2=5") + [eos])
        XCTAssertEqual(explicit.promptLength, 4)
        XCTAssertEqual(explicit.lossMask, [false, false, false, false, true, true])
        XCTAssertEqual(explicit.rejected?.lossMask, [false, false, false, false, true, true])
        XCTAssertEqual(explicit.margin, 1.5)
        XCTAssertEqual(explicit.shape, .pair)
        // Implicit prompt: the shared prefix, with the space before the split going to the completions.
        let implicit = try load([#"{"chosen": "what is 2+2? it is 4", "rejected": "what is 2+2? it is 5"}"#]).examples[0]
        XCTAssertEqual(implicit.ids, ids("what is 2+2? it is 4") + [eos])
        XCTAssertEqual(implicit.promptLength, ids("what is 2+2? it is").count)
        let words = try load([#"{"chosen": "say yes", "rejected": "say no"}"#]).examples[0]
        XCTAssertEqual(words.promptLength, ids("say").count, "the space goes with the completion, as TRL's extract_prompt does")
    }

    func testConversationalPairsUseTheChatTemplateAndShareThePrompt() throws {
        let row = #"{"prompt": [{"role": "user", "content": "1+1=?"}], "chosen": [{"role": "assistant", "content": "2"}], "#
            + #""rejected": [{"role": "assistant", "content": "3"}]}"#
        let e = try load([row]).examples[0]
        let prompt = try tokenizer.encodeChat([ChatMessage(role: "user", content: "1+1=?")], addGenerationPrompt: true)
        XCTAssertEqual(e.promptLength, prompt.count)
        XCTAssertEqual(Array(e.ids.prefix(prompt.count)), prompt)
        XCTAssertEqual(Array(e.rejected!.ids.prefix(prompt.count)), prompt)
        XCTAssertEqual(e.ids, try tokenizer.encodeChat([ChatMessage(role: "user", content: "1+1=?"), ChatMessage(role: "assistant", content: "2")],
                                                      addGenerationPrompt: false))
    }

    func testUnpairedAndStepwiseRows() throws {
        let kto = try load([#"{"prompt": "1+1=", "completion": "2", "label": true}"#, #"{"prompt": "1+2=", "completion": "4", "label": false}"#])
        XCTAssertEqual(kto.examples.map(\.label), [true, false])
        XCTAssertEqual(kto.examples[0].shape, .unpaired)
        let prm = try load([#"{"prompt": "1+2+3", "completions": ["1+2=3", "3+3=7"], "labels": [true, false]}"#]).examples[0]
        let step1 = tokenizer.encode("1+2=3", parseSpecialTokens: false) + tokenizer.encode("\n", parseSpecialTokens: false)
        let step2 = tokenizer.encode("3+3=7", parseSpecialTokens: false) + tokenizer.encode("\n", parseSpecialTokens: false)
        let prompt = tokenizer.encode("1+2+3", parseSpecialTokens: false)
        XCTAssertEqual(prm.ids, prompt + step1 + step2)
        XCTAssertEqual(prm.stepLabels, [Int32](repeating: -100, count: prompt.count + step1.count - 1) + [1]
                                     + [Int32](repeating: -100, count: step2.count - 1) + [0])
        XCTAssertEqual(prm.targetCount, 2)
    }

    func testTruncationKeepsTheChosenEndAndCutsPromptsToMaxPromptLength() throws {
        let row = #"{"prompt": "12345678", "chosen": "abcd", "rejected": "xyz"}"#
        let start = try load([row], options: EncodingOptions(maxLength: 10)).examples[0]
        XCTAssertEqual(start.ids, Array(ids("12345678abcd").prefix(10)))
        XCTAssertEqual(start.targetCount, 2)
        let end = try load([row], options: EncodingOptions(maxLength: 10, truncationMode: .keepEnd)).examples[0]
        XCTAssertEqual(end.ids, Array((ids("12345678abcd") + [tokenizer.eosTokenID!]).suffix(10)))
        XCTAssertEqual(end.promptLength, 5)
        let short = try load([row], options: EncodingOptions(maxLength: 10, maxPromptLength: 3)).examples[0]
        XCTAssertEqual(short.ids, ids("678abcd") + [tokenizer.eosTokenID!])
        XCTAssertEqual(short.promptLength, 3)
    }

    func testBadRowsNameFileLineAndFieldOrAreSkippedWithACount() throws {
        let cases: [(String, String)] = [
            (#"{"prompt": "a", "chosen": "b"}"#, "field 'rejected': missing: a preference row needs both 'chosen' and 'rejected'"),
            (#"{"prompt": "a", "chosen": "b", "rejected": "b"}"#, "field 'rejected': is identical to 'chosen': a preference pair must differ"),
            (#"{"prompt": "a", "completion": "b", "label": "yes"}"#, "field 'label': expected true (desirable) or false (undesirable), got a string"),
            (#"{"prompt": "a", "completions": ["b"], "labels": [true, false]}"#, "field 'labels': has 2 entries for 1 steps; one label per step"),
            (#"{"prompt": "0123456789", "chosen": "b", "rejected": "c"}"#,
             "field 'prompt': has 10 tokens but max_length is 8: no completion token would remain (raise max_length, or set max_prompt_length to cut prompts)"),
        ]
        for (row, message) in cases {
            XCTAssertThrowsError(try load([#"{"prompt": "x", "chosen": "1", "rejected": "2"}"#, row], options: EncodingOptions(maxLength: 8))) {
                XCTAssertTrue("\($0)".hasSuffix("data.jsonl:2: " + message), "\($0)")
            }
        }
        let mixed = [#"{"prompt": "x", "chosen": "1", "rejected": "2"}"#, #"{"prompt": "x", "completion": "1", "label": true}"#]
        XCTAssertThrowsError(try load(mixed)) {
            XCTAssertTrue("\($0)".hasSuffix("data.jsonl:2: is an unpaired row (prompt, completion, label) but line 1 is a preference row (prompt, chosen, rejected); a file holds one kind of row"), "\($0)")
        }
        let skipped = try load([#"{"prompt": "x", "chosen": "1", "rejected": "2"}"#] + cases.map(\.0) + [mixed[1]],
                               options: EncodingOptions(maxLength: 8), skip: true)
        XCTAssertEqual(skipped.examples.count, 1)
        XCTAssertEqual(skipped.skippedRows, 6)
    }
}
