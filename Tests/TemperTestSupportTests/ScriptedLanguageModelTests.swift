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
        XCTAssertEqual(again[0].map(\.text), ["a#2"])
        XCTAssertEqual(again[0][0], GeneratedSequence(tokenIDs: [97, 35, 50], text: "a#2", tokenLogprobs: [-1, -1, -1], finishReason: .eos))
        XCTAssertEqual(model.usage, ComputeUsage(tokensGenerated: 15, tokensScored: 0, forwardPasses: 15))
    }

    func testStopStringsAndTokenLimitEndSequencesAsADecoderWould() throws {
        let model = ScriptedLanguageModel(logprob: { $0 == "x" ? -0.5 : -2 }) { _, _ in "ax\n\nbx" }
        let prompt = try model.tokenize("q")
        let stopped = try model.generate(prompts: [prompt], options: GenerationOptions(stop: ["\n\n"]))[0][0]
        XCTAssertEqual(stopped, GeneratedSequence(tokenIDs: [97, 120], text: "ax", tokenLogprobs: [-2, -0.5], finishReason: .stop))
        let cut = try model.generate(prompts: [prompt], options: GenerationOptions(maxNewTokens: 3, stop: ["\n\n"]))[0][0]
        XCTAssertEqual(cut, GeneratedSequence(tokenIDs: [97, 120, 10], text: "ax\n", tokenLogprobs: [-2, -0.5, -2], finishReason: .length))
        // A script exactly as long as the limit: its end-of-sequence token would be one too many.
        let exact = try model.generate(prompts: [prompt], options: GenerationOptions(maxNewTokens: 6))[0][0]
        XCTAssertEqual(exact.text, "ax\n\nbx")
        XCTAssertEqual(exact.finishReason, .length)
        // 4 tokens up to the end of the stop string, then 3, then 6.
        XCTAssertEqual(model.usage, ComputeUsage(tokensGenerated: 13, forwardPasses: 13))
    }

    func testLogprobsAndTokenizer() throws {
        let model = ScriptedLanguageModel(logprob: { $0 == "é" ? -3 : -1 }) { _, _ in "" }
        XCTAssertEqual(try model.tokenize("é!"), [233, 33])
        XCTAssertEqual(try model.detokenize([233, 33]), "é!")
        XCTAssertEqual(try model.logprobs(prompt: [1, 2], continuation: [233, 33]), [-3, -1])
        XCTAssertEqual(model.usage, ComputeUsage(tokensScored: 4, forwardPasses: 1))
        XCTAssertEqual(model.endOfSequenceTokenIDs, [0])
        XCTAssertThrowsError(try model.detokenize([65, 0xD800])) { error in
            XCTAssertEqual("\(error)", "ScriptedLanguageModel: token id 55296 is not a Unicode scalar value")
        }
    }
}
