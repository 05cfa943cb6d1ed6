import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// STaR's rationalization through the on-policy loop and `rft`, with a scripted sampler: a problem
/// with no correct sample is asked again with its answer as a hint, and the correct hinted
/// completion is trained on under the original prompt.
final class RFTRationalizationTests: XCTestCase {
    private var tokenizer: Tokenizer!

    override func setUpWithError() throws {
        TestPlugins.loadBuilt(requiring: ["rft"])
        tokenizer = try CharacterChatTokenizer.make(alphabet: CharacterChatTokenizer.defaultAlphabet + "()H#")
    }

    /// Answers "5" to every unhinted prompt (right for 2+3 only); given a hint, copy 0 says the
    /// hinted answer and copy 1 says "0". Records every prompt it was asked, as text.
    final class ScriptedSampler: CompletionSampling {
        let tokenizer: Tokenizer
        var asked: [[String]] = []
        init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

        func sample(prompts: [[Int32]], copies: Int, seed: UInt64, greedy: Bool) throws -> [RolloutSampler.Sample] {
            let texts = prompts.map { tokenizer.decode($0) }
            asked.append(texts)
            return texts.flatMap { text -> [RolloutSampler.Sample] in
                let hint = text.range(of: "the answer is ").map { String(text[$0.upperBound...].prefix { $0.isNumber }) }
                return (0..<copies).map { copy in
                    let answer = hint.map { copy == 0 ? $0 : "0" } ?? "5"
                    return RolloutSampler.Sample(ids: self.tokenizer.encode(answer, parseSpecialTokens: false), text: answer, truncated: false)
                }
            }
        }
    }

    /// 1 when the completion is the number after the `answer` column's `####`.
    struct RightAnswer: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] {
            zip(batch.completions, batch.columns["answer"] ?? []).map { completion, answer in
                completion == answer.text.components(separatedBy: "#### ").last ? 1 : 0
            }
        }
    }

    private func loop(_ sampler: ScriptedSampler, rows: [String]) throws -> RolloutLoop {
        let dir = try makeTemporaryFolder("rft-rationalization")
        let file = dir.appendingPathComponent("prompts.jsonl")
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: file)
        var settings = RolloutSettings()
        settings.numGenerations = 2
        settings.maxCompletionLength = 4
        return try RolloutLoop(sampler: sampler, tokenizer: tokenizer, prompts: PromptDataset.load(path: file.path, tokenizer: tokenizer),
                               rewards: [WeightedReward(name: "right", reward: RightAnswer())], settings: settings,
                               microBatchSize: 4, gradientAccumulationSteps: 1, seed: 1, padID: tokenizer.padTokenID ?? 0)
    }

    private let rows = [#"{"prompt": [{"role": "user", "content": "2+2="}], "answer": "2+2=4\n#### 4"}"#,
                        #"{"prompt": [{"role": "user", "content": "2+3="}], "answer": "2+3=5\n#### 5"}"#]

    func testAFailedProblemIsHintedAndItsCorrectRationalizationIsKeptWithoutTheHint() throws {
        let sampler = ScriptedSampler(tokenizer: tokenizer)
        let rollouts = try loop(sampler, rows: rows)
        let rft = try ComponentRegistry.shared.objective("rft:rationalization=true")
        let policy = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 1)
        let part = try rollouts.microBatch(at: 0, policy: policy, reference: nil, objective: rft, step: 1)
        let batch = try XCTUnwrap(part.batch)

        // First the two plain prompts; then only 2+2= (both its samples said 5), with the hint
        // in its user message and the answer taken from after the solution's ####.
        XCTAssertEqual(sampler.asked.count, 2)
        XCTAssertEqual(Set(sampler.asked[0]), ["<|im_start|>user\n2+2=<|im_end|>\n<|im_start|>assistant\n",
                                               "<|im_start|>user\n2+3=<|im_end|>\n<|im_start|>assistant\n"])
        XCTAssertEqual(sampler.asked[1], ["<|im_start|>user\n2+2=\n(Hint: the answer is 4.)<|im_end|>\n<|im_start|>assistant\n"])

        // Each row as text: prompt (left padding removed) + completion. The hinted problem's rows
        // hold the rationalized completions "4" and "0" under the prompt without the hint.
        let width = batch.inputIDs.shape[1], ids = batch.inputIDs.int32Values, attention = batch.attentionMask.scalars
        let texts = (0..<batch.rowCount).map { r in tokenizer.decode((0..<width).filter { attention[r * width + $0] != 0 }.map { ids[r * width + $0] }) }
        let plain = { (q: String, a: String) in "<|im_start|>user\n\(q)<|im_end|>\n<|im_start|>assistant\n\(a)" }
        XCTAssertEqual(Set(texts), [plain("2+2=", "4"), plain("2+2=", "0"), plain("2+3=", "5")])
        XCTAssertEqual(texts.filter { $0 == plain("2+3=", "5") }.count, 2)
        // Rewards of the rationalized group are the hinted completions' (scored against the
        // original row); rft keeps the correct ones, one per distinct completion.
        let kept = try XCTUnwrap(batch.extra["kept"]).scalars
        for r in 0..<batch.rowCount { XCTAssertEqual(batch.rewards[r], texts[r].hasSuffix("0") ? 0 : 1, texts[r]) }
        let keptTexts = (0..<batch.rowCount).filter { kept[$0] == 1 }.map { texts[$0] }
        XCTAssertEqual(keptTexts.sorted(), [plain("2+2=", "4"), plain("2+3=", "5")])
        XCTAssertEqual(part.metrics["rationalization/hinted_groups"], 1)
        XCTAssertEqual(part.metrics["rationalization/rescued_groups"], 1)
        // The round's reward is the policy's own, before any hint: 2 of 4 samples right.
        XCTAssertEqual(part.metrics["reward"], 0.5)

        // Resumable with the rounds: a loop restored from the checkpoint hands out the same
        // rationalized rows without sampling again.
        let resumedSampler = ScriptedSampler(tokenizer: tokenizer)
        let resumed = try loop(resumedSampler, rows: rows)
        try resumed.restore(try rollouts.checkpointData(), source: "test")
        let again = try XCTUnwrap(try resumed.microBatch(at: 0, policy: policy, reference: nil, objective: rft, step: 1).batch)
        XCTAssertTrue(resumedSampler.asked.isEmpty)
        XCTAssertEqual(again.inputIDs.int32Values, batch.inputIDs.int32Values)
        XCTAssertEqual(again.completionMask.scalars, batch.completionMask.scalars)
    }

    func testWithoutRationalizationNothingIsHinted() throws {
        let sampler = ScriptedSampler(tokenizer: tokenizer)
        let part = try loop(sampler, rows: rows).microBatch(at: 0, policy: try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 1),
                                                           reference: nil, objective: try ComponentRegistry.shared.objective("rft"), step: 1)
        XCTAssertEqual(sampler.asked.count, 1)
        XCTAssertNil(part.metrics["rationalization/hinted_groups"])
        XCTAssertEqual(try XCTUnwrap(part.batch?.extra["kept"]).scalars.reduce(0, +), 1)
    }

    func testAProblemWithoutAnAnswerAndABadTemplateAreNamed() throws {
        let sampler = ScriptedSampler(tokenizer: tokenizer)
        let rollouts = try loop(sampler, rows: [#"{"prompt": "2+2=", "answer": null}"#, #"{"prompt": "2+3=", "answer": "5"}"#])
        let rft = try ComponentRegistry.shared.objective("rft:rationalization=true")
        let message = errorMessage {
            _ = try rollouts.microBatch(at: 0, policy: try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 1), reference: nil, objective: rft, step: 1)
        }
        XCTAssertEqual(message.map { $0.hasSuffix("prompts.jsonl:1: field 'answer': missing: STaR rationalization gives this column's answer as a hint") }, true,
                       message ?? "no error")
        XCTAssertEqual(errorMessage { _ = try ComponentRegistry.shared.objective("rft:rationalization=true,hint_template=answer {answer}") },
                       "rationalization hint template must contain {prompt} and {answer}, got \"answer {answer}\"")
    }
}
