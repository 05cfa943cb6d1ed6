import Foundation
@testable import TemperCore
import XCTest

final class TrainingDataTests: XCTestCase {
    let tok = TrainingFixtures.tokenizer

    private func error(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testReadsEveryTRLShape() throws {
        let dir = try TrainingFixtures.tempDir()
        let path = try TrainingFixtures.write([
            #"{"text": "hello"}"#,
            "",
            #"{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "id": 3}"#,
            #"{"prompt": "2+2=", "completion": "4"}"#,
            #"{"prompt": [{"role": "user", "content": "1+1="}], "completion": [{"role": "assistant", "content": "2"}]}"#,
        ], to: dir, name: "d.jsonl")
        let rows = try JSONLReader.read(path: path)
        XCTAssertEqual(rows.rows.map(\.line), [1, 3, 4, 5])
        XCTAssertEqual(rows.rows.map(\.row), [
            .text("hello"),
            .conversation([ChatMessage(role: "user", content: "hi"), ChatMessage(role: "assistant", content: "yo")]),
            .promptCompletion(prompt: "2+2=", completion: "4"),
            .conversationalPromptCompletion(prompt: [ChatMessage(role: "user", content: "1+1=")],
                                            completion: [ChatMessage(role: "assistant", content: "2")]),
        ])
    }

    func testMalformedRowsNameFileLineAndField() throws {
        let dir = try TrainingFixtures.tempDir()
        let cases: [(String, String)] = [
            (#"{"messages": [{"role": "user", "content": 5}]}"#, "d.jsonl:2: field 'messages[0].content': expected a string, got the number 5"),
            (#"{"messages": [{"content": "x"}]}"#, "d.jsonl:2: field 'messages[0].role': missing"),
            (#"{"prompt": "a"}"#, "d.jsonl:2: field 'completion': missing: a row with 'prompt' also needs 'completion'"),
            (#"{"prompt": "a", "completion": ["x"]}"#, "d.jsonl:2: field 'completion': expected a string like 'prompt', got a list of 1"),
            (#"{"text": "a", "messages": []}"#, "d.jsonl:2: a row needs exactly one of 'text', 'messages' or 'prompt' + 'completion'; found text and messages"),
            (#"{"text": "a""#, "d.jsonl:2: not valid JSON"),
            ("[1, 2]", "d.jsonl:2: expected a JSON object with 'text', 'messages' or 'prompt' + 'completion', got a list of 2"),
        ]
        for (bad, expected) in cases {
            let path = try TrainingFixtures.write([#"{"text": "ok"}"#, bad], to: dir, name: "d.jsonl")
            let message = error { _ = try JSONLReader.read(path: path) }
            XCTAssertTrue(message.hasSuffix(expected), "\(bad): \(message)")
            XCTAssertTrue(message.hasPrefix(dir.path), message)
        }
    }

    func testSkipInvalidRowsCountsThem() throws {
        let dir = try TrainingFixtures.tempDir()
        let path = try TrainingFixtures.write([#"{"text": "ok"}"#, "nope", #"{"text": 1}"#, #"{"text": "fine"}"#], to: dir, name: "d.jsonl")
        let rows = try JSONLReader.read(path: path, skipInvalid: true)
        XCTAssertEqual(rows.rows.count, 2)
        XCTAssertEqual(rows.skipped, 2)
        XCTAssertEqual(rows.firstSkipped?.line, 2)
        XCTAssertTrue(error { _ = try JSONLReader.read(path: dir.appendingPathComponent("none.jsonl").path) }.contains("cannot be read"))
    }

    func testAssistantOnlyLossMarksAssistantTurnsAndItsEndMarker() throws {
        let row = DatasetRow.conversation([ChatMessage(role: "user", content: "1+2="), ChatMessage(role: "assistant", content: "3"),
                                           ChatMessage(role: "user", content: "2+2="), ChatMessage(role: "assistant", content: "4")])
        let ex = try ExampleEncoder(tokenizer: tok, options: EncodingOptions(assistantOnlyLoss: true)).encode(row, file: "f", line: 1)
        XCTAssertEqual(tok.decode(ex.ids), "<|im_start|>user\n1+2=<|im_end|>\n<|im_start|>assistant\n3<|im_end|>\n" +
                                          "<|im_start|>user\n2+2=<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n")
        let trained = zip(ex.ids, ex.lossMask).filter(\.1).map(\.0)
        XCTAssertEqual(tok.decode(trained), "3<|im_end|>\n4<|im_end|>\n")
        let all = try ExampleEncoder(tokenizer: tok, options: EncodingOptions(assistantOnlyLoss: false)).encode(row, file: "f", line: 1)
        XCTAssertEqual(all.targetCount, all.ids.count - 1, "every token but the first is a target")
    }

    func testCompletionOnlyLossForPlainAndConversationalPrompts() throws {
        let enc = ExampleEncoder(tokenizer: tok, options: EncodingOptions())
        let plain = try enc.encode(.promptCompletion(prompt: "2+2=", completion: "4"), file: "f", line: 1)
        XCTAssertEqual(tok.decode(plain.ids), "2+2=4<|im_end|>")
        XCTAssertEqual(plain.lossMask, [false, false, false, false, true, true])
        let chat = try enc.encode(.conversationalPromptCompletion(prompt: [ChatMessage(role: "user", content: "9")],
                                                                  completion: [ChatMessage(role: "assistant", content: "10")]), file: "f", line: 1)
        XCTAssertEqual(tok.decode(zip(chat.ids, chat.lossMask).filter(\.1).map(\.0)), "10<|im_end|>\n")
        let full = try ExampleEncoder(tokenizer: tok, options: EncodingOptions(completionOnlyLoss: false))
            .encode(.promptCompletion(prompt: "2+2=", completion: "4"), file: "f", line: 1)
        XCTAssertEqual(full.lossMask, [false, true, true, true, true, true])
        let text = try enc.encode(.text("abc"), file: "f", line: 1)
        XCTAssertEqual(text.lossMask, [false, true, true, true])
    }

    func testTruncationAndTemplateErrorsNameTheLine() throws {
        let enc = ExampleEncoder(tokenizer: tok, options: EncodingOptions(maxLength: 3))
        XCTAssertEqual(try enc.encode(.text("abcdef"), file: "f", line: 1).ids.count, 3)
        let noTemplate = try Tokenizer(TokenizerDefinition(tokens: ["a"], merges: [], addedTokens: [],
                                                           preTokenizer: .byteLevel(addPrefixSpace: false, useRegex: false)))
        let message = error {
            _ = try ExampleEncoder(tokenizer: noTemplate, options: EncodingOptions())
                .encode(.conversation([ChatMessage(role: "user", content: "a")]), file: "data.jsonl", line: 7)
        }
        XCTAssertTrue(message.hasPrefix("data.jsonl:7: cannot be rendered with the model's chat template"), message)
    }

    func testDatasetDropsRowsWithoutTargetsAfterTruncation() throws {
        let dir = try TrainingFixtures.tempDir()
        let path = try TrainingFixtures.write([#"{"prompt": "aaaaaaaa", "completion": "b"}"#, #"{"prompt": "a", "completion": "b"}"#],
                                              to: dir, name: "d.jsonl")
        let ds = try TokenizedDataset.load(path: path, encoder: ExampleEncoder(tokenizer: tok, options: EncodingOptions(maxLength: 5)))
        XCTAssertEqual(ds.examples.count, 1)
        XCTAssertEqual(ds.emptyRows, 1)
    }

    func testPackingKeepsExamplesWholeAndFillsRows() {
        let ex = [5, 3, 4, 2, 6].map { n in TokenizedExample(ids: (0..<n).map { Int32($0) }, lossMask: Array(repeating: true, count: n)) }
        let packed = SequencePacker.pack(ex, maxLength: 8)
        XCTAssertEqual(packed.map(\.ids.count), [8, 8, 4])   // 6+2, 5+3, 4
        XCTAssertEqual(packed.reduce(0) { $0 + $1.targetCount }, ex.reduce(0) { $0 + $1.targetCount })
        XCTAssertEqual(packed[0].lossMask, [false, true, true, true, true, true, false, true])
    }

    func testPackedBatchGivesTheLossOfItsExamplesUnpacked() throws {
        let dir = try TrainingFixtures.tempDir()
        let path = try TrainingFixtures.write(TrainingFixtures.additionChats(count: 6), to: dir, name: "p.jsonl")
        let plain = try TrainingFixtures.dataset(path, maxLength: 128), packed = try TrainingFixtures.dataset(path, maxLength: 128, packing: true)
        XCTAssertEqual(packed.examples.map(\.packedLengths.count).reduce(0, +), 6)
        XCTAssertLessThan(packed.examples.count, 6)
        let pad = tok.padTokenID!
        let batch = BatchCollator.collate(packed.examples, padID: pad)
        // Segment numbers: example k of row 0 is k on its tokens.
        let first = packed.examples[0].packedLengths
        let expected = first.enumerated().flatMap { k, n in [Float](repeating: Float(k + 1), count: n) }
        XCTAssertEqual(Array(batch.attentionMask.scalars.prefix(expected.count)), expected)
        let model = try TrainingFixtures.model()
        func loss(_ b: TrainingBatch) throws -> Float {
            try withNoGrad { try TestNLL().loss(.batch(b), context: ObjectiveContext(policy: model)).loss.item }
        }
        XCTAssertEqual(try loss(batch), try loss(BatchCollator.collate(plain.examples, padID: pad)), accuracy: 1e-5)
    }

    func testCollatorPadsOnTheRight() {
        let a = TokenizedExample(ids: [1, 2, 3], lossMask: [false, false, true])
        let b = TokenizedExample(ids: [4], lossMask: [true])
        let batch = BatchCollator.collate([a, b], padID: 9)
        XCTAssertEqual(batch.inputIDs.shape, [2, 3])
        XCTAssertEqual(batch.inputIDs.int32Values, [1, 2, 3, 4, 9, 9])
        XCTAssertEqual(batch.attentionMask.scalars, [1, 1, 1, 1, 0, 0])
        XCTAssertEqual(batch.lossMask.scalars, [0, 0, 1, 0, 0, 0])
    }

    func testEpochOrderIsAPermutationFixedBySeedAndEpoch() {
        let p0 = EpochOrder.permutation(count: 50, seed: 3, epoch: 0)
        XCTAssertEqual(p0.sorted(), Array(0..<50))
        XCTAssertEqual(p0, EpochOrder.permutation(count: 50, seed: 3, epoch: 0))
        XCTAssertNotEqual(p0, EpochOrder.permutation(count: 50, seed: 3, epoch: 1))
        XCTAssertNotEqual(p0, EpochOrder.permutation(count: 50, seed: 4, epoch: 0))
    }
}
