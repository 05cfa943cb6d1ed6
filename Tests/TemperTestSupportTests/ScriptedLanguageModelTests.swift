import TemperCore
import TemperTestSupport
import XCTest

final class ScriptedLanguageModelTests: XCTestCase {
    func testContinuationsFollowTheScriptAndCountSamplesPerPrompt() throws {
        let model = ScriptedLanguageModel { prompt, sample in "\(prompt)#\(sample)" }
        let first = try model.generate(prompts: [try model.tokenize("a"), try model.tokenize("b")],
                                       options: GenerationOptions(numReturnSequences: 2))
        XCTAssertEqual(first.map { $0.map(\.text) }, [["a#0", "a#1"], ["b#0", "b#1"]])
        // A later call continues the count for the same prompt text.
        let again = try model.generate(prompts: [try model.tokenize("a")], options: GenerationOptions())
        XCTAssertEqual(again[0][0], GeneratedSequence(tokenIDs: [97, 35, 50, 0], text: "a#2", tokenLogprobs: [-1, -1, -1, -1], finishReason: .eos))
        // Call 1: prefill of the 2 one-token prompts (1 pass), 4 rows of 3 + EOS = 16 tokens in 3
        // more passes; call 2: prefill (1 token, 1 pass), 4 tokens in 3 more passes.
        XCTAssertEqual(model.usage, ComputeUsage(tokensGenerated: 20, tokensScored: 3, forwardPasses: 8))
    }

    func testStopStringsAndTokenLimitEndSequencesAsADecoderWould() throws {
        let model = ScriptedLanguageModel(logprob: { $0 == "x" ? -0.5 : -2 }) { _, _ in "ax\n\nbx" }
        let prompt = try model.tokenize("q")
        // The stop string's tokens were produced (they are in the context); the text ends before it.
        let stopped = try model.generate(prompts: [prompt], options: GenerationOptions(stopStrings: ["\n\n"]))[0][0]
        XCTAssertEqual(stopped, GeneratedSequence(tokenIDs: [97, 120, 10, 10], text: "ax", tokenLogprobs: [-2, -0.5, -2, -2], finishReason: .stop))
        let cut = try model.generate(prompts: [prompt], options: GenerationOptions(maxNewTokens: 3, stopStrings: ["\n\n"]))[0][0]
        XCTAssertEqual(cut, GeneratedSequence(tokenIDs: [97, 120, 10], text: "ax\n", tokenLogprobs: [-2, -0.5, -2], finishReason: .length))
        // A script exactly as long as the limit: its end-of-sequence token would be one too many.
        let exact = try model.generate(prompts: [prompt], options: GenerationOptions(maxNewTokens: 6))[0][0]
        XCTAssertEqual(exact.text, "ax\n\nbx")
        XCTAssertEqual(exact.tokenIDs.count, 6)
        XCTAssertEqual(exact.finishReason, .length)
        XCTAssertThrowsError(try model.generate(prompts: [prompt], options: GenerationOptions(numReturnSequences: 0))) {
            XCTAssertEqual("\($0)", "num_return_sequences must be ≥ 1, got 0")
        }
    }

    func testLogprobsAreBatchedAndTheTokenizerIsOneIdPerScalar() throws {
        let model = ScriptedLanguageModel(logprob: { $0 == "é" ? -3 : -1 }) { _, _ in "" }
        XCTAssertEqual(try model.tokenize("é!"), [233, 33])
        XCTAssertEqual(try model.detokenize([233, 33]), "é!")
        let scored = try model.logprobs([LogprobRequest(prompt: [1, 2], continuation: [233, 33]),
                                         LogprobRequest(prompt: [1], continuation: [33])])
        XCTAssertEqual(scored, [[-3, -1], [-1]])
        XCTAssertEqual(model.usage, ComputeUsage(tokensScored: 6, forwardPasses: 1))
        XCTAssertEqual(model.endOfSequenceTokenIDs, [0])
        XCTAssertEqual(try model.renderChat([ChatMessage(role: "user", content: "2+2?")]), "user: 2+2?\nassistant: ")
        XCTAssertThrowsError(try model.detokenize([65, 0xD800])) { error in
            XCTAssertEqual("\(error)", "ScriptedLanguageModel: token id 55296 is not a Unicode scalar value")
        }
    }

    func testSessionRowsForkAppendAndDecodeTheirWholeText() throws {
        let model = ScriptedLanguageModel { context, sample in context.hasSuffix("Wait") ? "!" : "<\(sample)>" }
        let session = try model.startSession(prompts: [try model.tokenize("q")])
        XCTAssertEqual(model.usage, ComputeUsage(tokensScored: 1, forwardPasses: 1))
        let kids = try session.fork([0], copies: 2)
        XCTAssertEqual(kids, [[1, 2]])
        XCTAssertEqual(model.usage, ComputeUsage(tokensScored: 1, forwardPasses: 1), "a fork costs nothing")
        // The two children continue the same text: samples 0 and 1 of "q".
        let out = try session.decode([1, 2], options: GenerationOptions(stopStrings: [">"]))
        XCTAssertEqual(out.map(\.text), ["<0", "<1"])
        XCTAssertEqual(try model.detokenize(try session.tokens(of: 1)), "q<0>")
        try session.append([try model.tokenize("Wait")], to: [2])
        XCTAssertEqual(try session.decode([2], options: GenerationOptions()).map(\.text), ["!"])
        XCTAssertEqual(try model.detokenize(try session.tokens(of: 2)), "q<1>Wait!\u{0}")
        session.release([1])
        XCTAssertEqual(session.rows, [0, 2])
        XCTAssertThrowsError(try session.tokens(of: 1)) {
            XCTAssertEqual("\($0)", "decoding session: no row 1 (live rows: 0, 2)")
        }
        XCTAssertThrowsError(try session.decode([2], options: GenerationOptions(numReturnSequences: 2))) {
            XCTAssertEqual("\($0)", "decoding session: decode takes num_return_sequences = 1, got 2; fork the rows instead")
        }
        // Prefill 1; decode: 3 steps, 6 tokens; append: 4 scored, 1 pass; decode: 2 steps, 2 tokens.
        XCTAssertEqual(model.usage, ComputeUsage(tokensGenerated: 8, tokensScored: 5, forwardPasses: 7))
    }
}
