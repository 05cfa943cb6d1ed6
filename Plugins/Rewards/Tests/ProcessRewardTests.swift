import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `process-reward` and `ProcessRewardStepScorer`: a token classifier written in Hugging Face's
/// layout, read back, scoring steps at the positions a PRM is trained on.
final class ProcessRewardTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["process-reward"]) }

    func testStepScoresAreTheClassifiersProbabilitiesAtStepEndsCombined() throws {
        let source = TemperRepository.fixtures.appendingPathComponent("tiny-reward-model/model")
        let base = try SequenceClassifier.load(from: source)
        var rng = PhiloxRNG(seed: 5)
        let head = Tensor.randn([2, base.model.config.hiddenSize], std: 0.5, rng: &rng)
        let dir = try makeTemporaryFolder("process-reward").appendingPathComponent("prm")
        try SequenceClassifier.write(model: base.model, score: head, architecture: SequenceClassifier.tokenArchitecture, source: source,
                                     padTokenID: 2, to: dir)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["LlamaForTokenClassification"])
        XCTAssertEqual(config["token_classification_bias"] as? Bool, false)

        // By hand: BOS? none for this tokenizer; prompt, then each step and "\n"; P(correct) at each "\n".
        let tokenizer = base.tokenizer
        let prompt = tokenizer.encode("2+3+4", parseSpecialTokens: false), newline = tokenizer.encode("\n", parseSpecialTokens: false)
        let s1 = tokenizer.encode("2+3=5", parseSpecialTokens: false), s2 = tokenizer.encode("5+4=10", parseSpecialTokens: false)
        let ids = (tokenizer.bosTokenID.map { [$0] } ?? []) + prompt + s1 + newline + s2 + newline
        let logits = try SequenceClassifier(model: base.model, score: head, tokenizer: tokenizer, padTokenID: 2,
                                            architecture: SequenceClassifier.tokenArchitecture).tokenScores(ids)
        let ends = [ids.count - newline.count - s2.count - 1, ids.count - 1]
        let expected = ends.map { Float(1 / (1 + Foundation.exp(Double(logits[$0][0] - logits[$0][1])))) }
        // The same numbers through the step-scoring protocol search strategies use.
        let scorer: any StepScoring = try ProcessRewardStepScorer(directory: dir)
        XCTAssertEqual(scorer.segmentation, .separator("\n"))
        let perStep = try scorer.scoreSteps([PartialSolution(prompt: "2+3+4", steps: ["2+3=5", "5+4=10"]), PartialSolution(prompt: "x", steps: [])])
        assertClose(perStep[0], expected, tol: 1e-5)
        XCTAssertEqual(perStep[1], [])
        XCTAssertThrowsError(try ProcessRewardStepScorer(directory: source)) {
            XCTAssertTrue("\($0)".hasSuffix("is a LlamaForSequenceClassification with 1 labels; a process reward model is a LlamaForTokenClassification with 2"), "\($0)")
        }
        func score(_ aggregation: String, _ completions: [String]) throws -> [Float?] {
            try ComponentRegistry.shared.reward("process-reward:path=\(dir.path),aggregation=\(aggregation)").reward
                .score(RewardBatch(prompts: completions.map { _ in "2+3+4" }, completions: completions))
        }
        assertClose(try score("last", ["2+3=5", "2+3=5\n5+4=10\n", "  "]), [expected[0], expected[1], nil])
        assertClose(try score("prod", ["2+3=5\n5+4=10"]), [expected[0] * expected[1]])
        assertClose(try score("min", ["2+3=5\n5+4=10"]), [expected.min()!])
    }
}
