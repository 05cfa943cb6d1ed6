import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The `sft` objective, loaded from the built libTemperPluginObjectives.so as `temper` loads it.
final class SFTTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["sft", "adamw"])
    }

    private func sft() throws -> any Objective {
        try ComponentRegistry.shared.objective("sft")
    }

    func testLossIsTheMeanNLLOfShiftedMaskedTargets() throws {
        // One sequence of 3 tokens over a vocabulary of 3. lossMask marks tokens 1 and 2 as targets,
        // so position 0 predicts token 1 (= 2) and position 1 predicts token 2 (= 0); position 2 predicts nothing.
        let logits: [Float] = [1, 0, 2,   0, 1, 0,   5, 5, 5]
        let model = FixedLogitsModel(Tensor(shape: [1, 3, 3], scalars: logits, requiresGrad: true))
        let batch = TrainingBatch(inputIDs: Tensor(shape: [1, 3], int32: [1, 2, 0]), attentionMask: Tensor(shape: [1, 3], scalars: [1, 1, 1]),
                                  lossMask: Tensor(shape: [1, 3], scalars: [0, 1, 1]))
        let out = try sft().loss(.batch(batch), context: ObjectiveContext(policy: model))
        let e = M_E
        let nll0 = -(2 - Foundation.log(e + 1 + e * e))          // −log p(2 | row 0)
        let nll1 = -(0 - Foundation.log(1 + e + 1))              // −log p(0 | row 1)
        XCTAssertEqual(Double(out.loss.item), (nll0 + nll1) / 2, accuracy: 1e-6)
        // Row 0's argmax is 2 (right), row 1's is 1 (wrong).
        XCTAssertEqual(out.metrics["mean_token_accuracy"], 0.5)
        out.loss.backward()
        let g = model.logits.grad!.scalars
        XCTAssertEqual(Array(g[6..<9]), [0, 0, 0], "the last position predicts nothing")
        let p0 = [e, 1, e * e].map { $0 / (e + 1 + e * e) }
        XCTAssertEqual(Double(g[2]), (p0[2] - 1) / 2, accuracy: 1e-6)
        XCTAssertEqual(Double(g[0]), p0[0] / 2, accuracy: 1e-6)
    }

    func testUnmaskedTokensAndPaddingCarryNoLoss() throws {
        let model = FixedLogitsModel(Tensor(shape: [2, 2, 2], scalars: [0, 3, 9, 9, 3, 0, 9, 9], requiresGrad: true))
        // Row 0 targets token 1 = 1; row 1's only target would be padding (mask 0).
        let batch = TrainingBatch(inputIDs: Tensor(shape: [2, 2], int32: [0, 1, 0, 0]), attentionMask: Tensor(shape: [2, 2], scalars: [1, 1, 1, 0]),
                                  lossMask: Tensor(shape: [2, 2], scalars: [0, 1, 0, 0]))
        let out = try sft().loss(.batch(batch), context: ObjectiveContext(policy: model))
        XCTAssertEqual(Double(out.loss.item), -(3 - Foundation.log(1 + Foundation.exp(3.0))), accuracy: 1e-6)
    }

    func testSFTTrainsATinyModelThroughTheTrainer() throws {
        let dir = try makeTemporaryFolder("sft")
        let task = try AdditionTask(digits: 1, trainCount: 60, heldOutCount: 10, seed: 1)
        try AdditionTask.write(task.train, to: dir.appendingPathComponent("train.jsonl"))
        try AdditionTask.write(task.heldOut, to: dir.appendingPathComponent("eval.jsonl"))
        let tokenizer = try CharacterChatTokenizer.make()
        let model = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 3)
        var recipe = TrainingRecipe()
        for (k, v) in [("train_file", dir.appendingPathComponent("train.jsonl").path), ("eval_file", dir.appendingPathComponent("eval.jsonl").path),
                       ("output_dir", dir.appendingPathComponent("run").path), ("optimizer", "adamw"), ("learning_rate", "0.01"),
                       ("max_steps", "30"), ("per_device_train_batch_size", "8"), ("assistant_only_loss", "true"), ("save_steps", "100")] {
            try recipe.set(k, .text(v))
        }
        let params = model.namedParameters
        for p in params { p.tensor.requiresGrad = true }
        let ds = { (name: String) in
            try TokenizedDataset.load(path: dir.appendingPathComponent(name).path,
                                      encoder: ExampleEncoder(tokenizer: tokenizer, options: EncodingOptions(assistantOnlyLoss: true)))
        }
        let trainer = try Trainer(policy: model, objective: try sft(), optimizer: try ComponentRegistry.shared.optimizer("adamw:lr=0.01"),
                                  groups: [ParameterGroup(parameters: params)], trainData: try ds("train.jsonl"), evalData: try ds("eval.jsonl"),
                                  padID: tokenizer.padTokenID!, config: try TrainerConfig(recipe: recipe))
        let before = try trainer.evaluate().loss
        let summary = try trainer.train()
        XCTAssertLessThan(summary.evalLoss!, before * 0.6, "eval loss \(before) → \(summary.evalLoss!)")
    }

    /// SmolLM2-like tied dense head: SFT fuses it (`linearCrossEntropy`) and must give the loss,
    /// accuracy and gradients of the logits path, with prompt positions and padding ignored.
    func testFusedHeadEqualsTheLogitsPath() throws {
        let model = try TinyLlama.model(seed: 4)
        XCTAssertNotNil(model.denseLMHeadWeight, "a tied float head is fused")
        let (fused, plain) = try compareWithLogitsPath(model)
        XCTAssertEqual(fused.loss, plain.loss, accuracy: 1e-6 * max(1, abs(plain.loss)))
        XCTAssertEqual(fused.accuracy, plain.accuracy)
        XCTAssertEqual(fused.gradients.count, plain.gradients.count)
        for (a, b) in zip(fused.gradients, plain.gradients) { assertClose(a, b, tol: 1e-5) }
    }

    /// A head behind an adapter is not a plain product: SFT takes the logits, through the adapter.
    func testAnAdaptedHeadIsNotFused() throws {
        let model = try TinyLlama.model(seed: 4)
        model.lmHead.adapter = DoublingAdapter()
        XCTAssertNil(model.denseLMHeadWeight)
        let (direct, plain) = try compareWithLogitsPath(model)
        XCTAssertEqual(direct.loss, plain.loss)
        let unadapted = try TinyLlama.model(seed: 4)
        let (baseline, _) = try compareWithLogitsPath(unadapted)
        XCTAssertNotEqual(direct.loss, baseline.loss, "the adapter's doubled logits change the loss")
    }

    private struct Step { var loss: Float; var accuracy: Double; var gradients: [[Float]] }

    /// One SFT loss and backward on `model` itself and through `LogitsOnlyPolicy` (which SFT cannot
    /// fuse), with every base parameter trained.
    private func compareWithLogitsPath(_ model: LlamaModel) throws -> (Step, Step) {
        let params = model.namedParameters.map(\.tensor)
        for p in params { p.requiresGrad = true }
        var rng = PhiloxRNG(seed: 2)
        let ids = Tensor(shape: [3, 9], int32: (0..<27).map { _ in Int32(rng.next32() % 61) })
        // The first three tokens of each row are prompt; the last row ends in two padding tokens.
        let attention = Tensor(shape: [3, 9], scalars: (0..<27).map { $0 >= 25 ? 0 : 1 })
        let lossMask = Tensor(shape: [3, 9], scalars: (0..<27).map { $0 % 9 < 3 || $0 >= 25 ? 0 : 1 })
        let batch = TrainingBatch(inputIDs: ids, attentionMask: attention, lossMask: lossMask)
        func step(_ policy: any TrainableLanguageModel) throws -> Step {
            for p in params { p.zeroGrad() }
            let out = try sft().loss(.batch(batch), context: ObjectiveContext(policy: policy))
            out.loss.backward()
            return Step(loss: out.loss.item, accuracy: out.metrics["mean_token_accuracy"] ?? -1, gradients: params.map { $0.grad?.scalars ?? [] })
        }
        return (try step(model), try step(LogitsOnlyPolicy(model)))
    }
}

/// A policy that offers only logits, hiding the `LlamaModel` behind it: SFT's unfused path.
private final class LogitsOnlyPolicy: TrainableLanguageModel {
    let model: LlamaModel
    init(_ model: LlamaModel) { self.model = model }
    func logits(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor { try model.logits(inputIDs: inputIDs, attentionMask: attentionMask) }
    func hiddenStates(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor { try model.hiddenStates(inputIDs: inputIDs, attentionMask: attentionMask) }
    func logits(hiddenStates: Tensor) -> Tensor { model.logits(hiddenStates: hiddenStates) }
}

/// An adapter that doubles the layer's output: no longer `h · Wᵀ`.
private final class DoublingAdapter: LinearAdapter {
    func forward(_ x: Tensor, layer: Linear) -> Tensor { layer.baseForward(x) * 2 }
    var parameters: [NamedParameter] { [] }
}
