import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The PRM's step and first-wrong-step figures on hand-made verdicts, and where a chain's step
/// labels sit for the quickstart's character tokenizer.
final class PRMStepMetricsTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["prm"]) }

    /// The `prm` objective's metrics on a batch whose verdicts are set by hand: FixedLogitsModel's
    /// hidden states are its fixed logits, and with an identity score head the PRM's logits
    /// `[wrong, correct]` at a position are those hidden states: `[1, 0]` flags the step, `[0, 1]`
    /// passes it, `[0, 0]` (P(correct) = 1/2) flags it too.
    private func metrics(labels: [[Int32]], verdicts: [[[Float]]]) throws -> [String: Double] {
        let o = try ComponentRegistry.shared.objective("prm")
        let head = try o.makeParameters(for: ObjectiveModelInfo(hiddenSize: 2, vocabSize: 2, seed: 1))
        head[0].tensor.assign(from: Tensor(shape: [2, 2], scalars: [1, 0, 0, 1]))
        let length = labels.map(\.count).max()! + 1
        var hidden: [Float] = [], examples: [TokenizedExample] = []
        for (rowLabels, rowVerdicts) in zip(labels, verdicts) {
            // Position 0 is the prompt (unlabelled); padding the row out to `length` is unlabelled too.
            let steps = rowLabels.count, padding = length - 1 - steps
            var e = TokenizedExample(ids: [Int32](repeating: 0, count: length), lossMask: (0..<length).map { $0 >= 1 && $0 <= steps })
            e.stepLabels = [-100] + rowLabels + [Int32](repeating: -100, count: padding)
            examples.append(e)
            let stepLogits: [Float] = rowVerdicts.flatMap { $0 }
            hidden += [0, 0] + stepLogits + [Float](repeating: 0, count: 2 * padding)
        }
        let model = FixedLogitsModel(Tensor(shape: [labels.count, length, 2], scalars: hidden))
        return try o.loss(.batch(BatchCollator.collate(examples, padID: 0)), context: ObjectiveContext(policy: model)).metrics
    }

    func testFirstWrongStepIsTheFirstFlaggedStepAndCountsPerRow() throws {
        let flag: [Float] = [1, 0], pass: [Float] = [0, 1]
        // Four chains of three steps:
        //  row 0: correct chain, nothing flagged            -> found ("none" = "none"), 3/3 steps right
        //  row 1: wrong from step 1, flagged at steps 1, 2  -> found, 3/3 steps right
        //  row 2: wrong from step 2, flagged at step 0 only -> missed (flags 0, not 2), 1/3 steps right
        //  row 3: wrong from step 0, nothing flagged        -> missed, 0/3 steps right
        let labels: [[Int32]] = [[1, 1, 1], [1, 0, 0], [1, 1, 0], [0, 0, 0]]
        let verdicts: [[[Float]]] = [[pass, pass, pass], [pass, flag, flag], [flag, pass, pass], [pass, pass, pass]]
        let m = try metrics(labels: labels, verdicts: verdicts)
        XCTAssertEqual(m["steps"], 12)
        XCTAssertEqual(m["accuracy"]!, 7 / 12.0, accuracy: 1e-12)
        XCTAssertEqual(m["first_wrong_step_accuracy"], 0.5)
        XCTAssertEqual(m["wrong_chains"], 0.75)
        XCTAssertEqual(m["wrong_chains_first_step_found"], 0.25)
        // A tie flags the step: the correct one-step chain is missed, the wrong one found.
        let tieVerdicts: [[[Float]]] = [[[0, 0]], [flag, pass]]
        let tie = try metrics(labels: [[1], [0, 0]], verdicts: tieVerdicts)
        XCTAssertEqual(tie["steps"], 3)
        XCTAssertEqual(tie["accuracy"]!, 1 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(tie["first_wrong_step_accuracy"], 0.5)
        XCTAssertEqual(tie["wrong_chains"], 0.5)
        XCTAssertEqual(tie["wrong_chains_first_step_found"], 0.5)
    }

    func testAChainStepsLabelSitsOnTheNewlineAfterItsResult() throws {
        let tokenizer = try CharacterChatTokenizer.make()
        let encoder = ExampleEncoder(tokenizer: tokenizer, options: EncodingOptions())
        let e = encoder.encodeSteps(prompt: "compute 7 + 5 - 3.", steps: ["7 + 5 = 12", "12 - 3 = 8"], labels: [true, false])
        let text = "compute 7 + 5 - 3.7 + 5 = 12\n12 - 3 = 8\n"
        XCTAssertEqual(e.ids, tokenizer.encode(text, parseSpecialTokens: false), "one token per character, no BOS")
        let labelled = e.stepLabels!.indices.filter { e.stepLabels![$0] != -100 }
        let characters = Array(text)
        XCTAssertEqual(labelled, [28, 39])
        XCTAssertEqual(labelled.map { characters[$0] }, ["\n", "\n"])
        XCTAssertEqual(labelled.map { characters[$0 - 1] }, ["2", "8"], "the label's position has read the step's whole result")
        XCTAssertEqual(labelled.map { e.stepLabels![$0] }, [1, 0])
    }
}
