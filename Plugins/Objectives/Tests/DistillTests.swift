import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The `distill` objective, loaded from the built libTemperPluginObjectives.so as `temper` loads it.
final class DistillTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["distill", "adamw"])
    }

    private func distill(_ spec: String = "distill") throws -> any Objective {
        try ComponentRegistry.shared.objective(spec)
    }

    /// One sequence of two tokens: position 0 predicts token 1 (a target); position 1 predicts nothing.
    private let twoTokens = TrainingBatch(inputIDs: Tensor(shape: [1, 2], int32: [0, 1]), attentionMask: Tensor(shape: [1, 2], scalars: [1, 1]),
                                          lossMask: Tensor(shape: [1, 2], scalars: [0, 1]))

    /// Student row 0 is uniform, q = (1/2, 1/2); teacher row 0 at τ = 2 is softmax(ln 3, 0) = (3/4, 1/4).
    /// Row 1 differs wildly between them but is not a target, so it must not count.
    private func handCase() -> (student: FixedLogitsModel, teacher: FixedLogitsModel) {
        let student = FixedLogitsModel(Tensor(shape: [1, 2, 2], scalars: [0, 0, 9, -9], requiresGrad: true))
        let teacher = FixedLogitsModel(Tensor(shape: [1, 2, 2], scalars: [2 * Float(Foundation.log(3.0)), 0, -9, 9]))
        return (student, teacher)
    }

    func testForwardKLMatchesTheHandComputedValueAndGradient() throws {
        let (student, teacher) = handCase()
        let out = try distill("distill:temperature=2").loss(.batch(twoTokens), context: ObjectiveContext(policy: student, reference: teacher))
        let kl = 0.75 * Foundation.log(0.75 / 0.5) + 0.25 * Foundation.log(0.25 / 0.5)
        XCTAssertEqual(out.metrics["kl"]!, kl, accuracy: 1e-6)
        XCTAssertEqual(Double(out.loss.item), 4 * kl, accuracy: 1e-6, "τ² · KL with τ = 2")
        XCTAssertEqual(out.metrics["nll"]!, Foundation.log(2.0), accuracy: 1e-6)
        out.loss.backward()
        // ∂(τ²·KL)/∂s = τ · (q − p) = 2 · (1/2 − 3/4, 1/2 − 1/4); the non-target row gets nothing.
        let g = student.logits.grad!.scalars
        XCTAssertEqual(Double(g[0]), -0.5, accuracy: 1e-6)
        XCTAssertEqual(Double(g[1]), 0.5, accuracy: 1e-6)
        XCTAssertEqual(Array(g[2..<4]), [0, 0])
    }

    func testReverseKLAndAlphaMixing() throws {
        let (student, teacher) = handCase()
        let out = try distill("distill:temperature=2,kl_direction=reverse,alpha=0.25")
            .loss(.batch(twoTokens), context: ObjectiveContext(policy: student, reference: teacher))
        let kl = 0.5 * Foundation.log(0.5 / 0.75) + 0.5 * Foundation.log(0.5 / 0.25)
        XCTAssertEqual(out.metrics["kl"]!, kl, accuracy: 1e-6)
        XCTAssertEqual(Double(out.loss.item), 0.75 * 4 * kl + 0.25 * Foundation.log(2.0), accuracy: 1e-6)
    }

    func testIdenticalTeacherGivesZeroLossAndGradient() throws {
        let logits: [Float] = [0.3, -1.2, 2.0, 0.7, 0.1, -0.4]
        let student = FixedLogitsModel(Tensor(shape: [1, 2, 3], scalars: logits, requiresGrad: true))
        let out = try distill().loss(.batch(twoTokens), context: ObjectiveContext(policy: student, reference: FixedLogitsModel(Tensor(shape: [1, 2, 3], scalars: logits))))
        XCTAssertEqual(out.loss.item, 0, accuracy: 1e-6)
        out.loss.backward()
        for v in student.logits.grad!.scalars { XCTAssertEqual(v, 0, accuracy: 1e-6) }
    }

    func testGradientMatchesFiniteDifferences() throws {
        var rng = PhiloxRNG(seed: 11)
        let shape = [2, 4, 5]
        let studentValues = (0..<40).map { _ in rng.nextUniform() * 4 - 2 }
        let teacher = FixedLogitsModel(Tensor(shape: shape, scalars: (0..<40).map { _ in rng.nextUniform() * 4 - 2 }))
        let batch = TrainingBatch(inputIDs: Tensor(shape: [2, 4], int32: [1, 2, 3, 4, 0, 1, 2, 3]),
                                  attentionMask: Tensor(shape: [2, 4], scalars: [1, 1, 1, 1, 1, 1, 1, 0]),
                                  lossMask: Tensor(shape: [2, 4], scalars: [0, 1, 1, 1, 0, 0, 1, 0]))
        for spec in ["distill:temperature=1.5,alpha=0.3", "distill:temperature=0.7,kl_direction=reverse,alpha=0.6", "distill:temperature=3"] {
            let objective = try distill(spec)
            let logits = Tensor(shape: shape, scalars: studentValues, requiresGrad: true)
            let context = ObjectiveContext(policy: FixedLogitsModel(logits), reference: teacher)
            assertGradientsMatch([logits], message: spec) { _ in try objective.loss(.batch(batch), context: context).loss }
        }
    }

    func testMissingTeacherAndMismatchedVocabularyAreClearErrors() throws {
        let (student, _) = handCase()
        XCTAssertThrowsError(try distill().loss(.batch(twoTokens), context: ObjectiveContext(policy: student))) { error in
            XCTAssertTrue("\(error)".contains("no teacher model; set teacher_model"), "\(error)")
        }
        let wide = FixedLogitsModel(Tensor(shape: [1, 2, 3], scalars: [0, 0, 0, 0, 0, 0]))
        XCTAssertThrowsError(try distill().loss(.batch(twoTokens), context: ObjectiveContext(policy: student, reference: wide))) { error in
            XCTAssertTrue("\(error)".contains("teacher logits [1, 2, 3] do not match the student's [1, 2, 2]"), "\(error)")
        }
        XCTAssertThrowsError(try distill("distill:temperature=0")) { error in
            XCTAssertTrue("\(error)".contains("temperature"), "\(error)")
        }
    }

    /// A tiny student learns a tiny teacher's distribution through the trainer, which hands the
    /// teacher to the objective as its reference.
    func testDistillationThroughTheTrainerLowersTheKL() throws {
        let dir = try makeTemporaryFolder("distill")
        let task = try AdditionTask(digits: 1, trainCount: 40, heldOutCount: 8, seed: 2)
        try AdditionTask.write(task.train, to: dir.appendingPathComponent("train.jsonl"))
        try AdditionTask.write(task.heldOut, to: dir.appendingPathComponent("eval.jsonl"))
        let tokenizer = try CharacterChatTokenizer.make()
        let student = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 3)
        let teacher = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 4)
        var recipe = TrainingRecipe()
        for (k, v) in [("output_dir", dir.appendingPathComponent("run").path), ("max_steps", "25"), ("per_device_train_batch_size", "8"),
                       ("assistant_only_loss", "true"), ("save_steps", "100")] {
            try recipe.set(k, .text(v))
        }
        let params = student.namedParameters
        for p in params { p.tensor.requiresGrad = true }
        let ds = { (name: String) in
            try TokenizedDataset.load(path: dir.appendingPathComponent(name).path,
                                      encoder: ExampleEncoder(tokenizer: tokenizer, options: EncodingOptions(assistantOnlyLoss: true)))
        }
        let trainer = try Trainer(policy: student, objective: try distill("distill:temperature=2"),
                                  optimizer: try ComponentRegistry.shared.optimizer("adamw:lr=0.01"), groups: [ParameterGroup(parameters: params)],
                                  trainData: try ds("train.jsonl"), evalData: try ds("eval.jsonl"), padID: tokenizer.padTokenID!,
                                  config: try TrainerConfig(recipe: recipe))
        XCTAssertThrowsError(try trainer.evaluate(), "without a reference the objective has no teacher")
        trainer.reference = teacher
        let before = try trainer.evaluate().loss
        let summary = try trainer.train()
        XCTAssertLessThan(summary.evalLoss!, before * 0.5, "eval τ²·KL \(before) → \(summary.evalLoss!)")
    }
}
