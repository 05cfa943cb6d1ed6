import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// Reward models in Hugging Face's sequence-classification layout: read as transformers wrote it
/// (fixtures/tiny-reward-model, scores from transformers 5.24), written back, and used through the
/// `reward-model` reward.
final class RewardModelRewardTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["reward-model"]) }

    private let folder = TemperRepository.fixtures.appendingPathComponent("tiny-reward-model")

    private struct Fixture: Decodable {
        struct Case: Decodable {
            var text: String
            var ids: [Int32]
            var score: Float
            var batched_score: Float
        }
        var pad_token_id: Int32
        var cases: [Case]
    }

    private func fixture() throws -> Fixture {
        try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: folder.appendingPathComponent("scores.json")))
    }

    func testScoresEqualTransformersAloneAndInAPaddedBatch() throws {
        let f = try fixture()
        let classifier = try SequenceClassifier.load(from: folder.appendingPathComponent("model"))
        XCTAssertEqual(classifier.architecture, "LlamaForSequenceClassification")
        XCTAssertEqual(classifier.padTokenID, f.pad_token_id)
        XCTAssertEqual(f.cases.map { classifier.tokenizer.encode($0.text) }, f.cases.map(\.ids))
        assertClose(try classifier.scores(f.cases.map(\.ids), batchSize: 1).map { $0[0] }, f.cases.map(\.score), tol: 1e-4)
        assertClose(try classifier.scores(f.cases.map(\.ids), batchSize: 4).map { $0[0] }, f.cases.map(\.batched_score), tol: 1e-4)
    }

    func testWhatTemperWritesHasTransformersLayoutAndReloadsToTheSameScores() throws {
        let f = try fixture()
        let original = try SequenceClassifier.load(from: folder.appendingPathComponent("model"))
        let out = try makeTemporaryFolder("reward-model-write").appendingPathComponent("rm")
        try SequenceClassifier.write(model: original.model, score: original.score, architecture: SequenceClassifier.sequenceArchitecture,
                                     source: folder.appendingPathComponent("model"), padTokenID: 2, to: out)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["LlamaForSequenceClassification"])
        XCTAssertEqual(config["id2label"] as? [String: String], ["0": "LABEL_0"])
        XCTAssertEqual(config["pad_token_id"] as? Int, 2)
        let names = try SafetensorsCheckpoint(contentsOf: out).tensorNames
        XCTAssertTrue(names.contains("score.weight") && names.contains("model.embed_tokens.weight") && !names.contains("lm_head.weight"), "\(names)")
        let reloaded = try SequenceClassifier.load(from: out)
        assertClose(try reloaded.scores(f.cases.map(\.ids)).map { $0[0] }, f.cases.map(\.batched_score), tol: 1e-4)
    }

    func testRewardModelRewardScoresPromptPlusCompletion() throws {
        let f = try fixture()
        let reward = try ComponentRegistry.shared.reward("reward-model:path=\(folder.appendingPathComponent("model").path),append_eos=false,batch_size=3").reward
        let texts = f.cases.map(\.text)
        let scores = try reward.score(RewardBatch(prompts: texts.map { String($0.prefix(2)) }, completions: texts.map { String($0.dropFirst(2)) }))
        assertClose(scores, f.cases.map { Optional($0.batched_score) }, tol: 1e-4)
    }

    func testAFolderThatIsNotARewardModelIsAClearError() throws {
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("reward-model:path=\(TemperRepository.fixtures.appendingPathComponent("tiny-llama-hf").path)")) {
            XCTAssertTrue("\($0)".contains("config.json: architectures is 'LlamaForCausalLM', expected LlamaForSequenceClassification or LlamaForTokenClassification"), "\($0)")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("reward-model")) {
            XCTAssertEqual("\($0)", "reward-model: missing required parameter 'path' (a string): folder of the reward model (config.json, model.safetensors, tokenizer.json)")
        }
        XCTAssertThrowsError(try ComponentRegistry.shared.reward("reward-model:path=")) {
            XCTAssertEqual("\($0)", "reward-model: path has no value in 'reward-model:path='")
        }
    }
}
