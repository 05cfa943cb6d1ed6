import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// LoRA dropout masks come from the trainer's key (seed, step, micro-batch) and each adapter's name,
/// so a resumed run and a checkpointed layer's recompute draw exactly the masks of the first pass.
final class LoRADropoutTests: XCTestCase {
    typealias S = PEFTTestSupport

    /// The tiny model with LoRA (dropout `p`) on every projection, B moved off zero so the adapters
    /// (and so their dropout) change the output.
    private func adapted(dropout p: Double) throws -> (LlamaModel, [NamedParameter]) {
        let model = try S.model()
        let lora = try S.method("lora:r=2,lora_dropout=\(p),target_modules=all-linear")
        _ = try lora.apply(to: model)
        let params = lora.trainableGroups()[0].parameters
        for (i, q) in params.enumerated() where q.name.hasSuffix("lora_B.weight") { S.randomize(q.tensor, std: 0.5, seed: UInt64(i)) }
        return (model, params)
    }

    /// Cross-entropy of the fixed batch predicting itself shifted by one, and the LoRA gradients.
    private func lossAndGradients(_ model: LlamaModel, _ params: [NamedParameter], key: UInt64) throws -> (Float, [[Float]]) {
        for q in params { q.tensor.grad = nil }
        let targets = Tensor(shape: [2, 5], int32: [14, 15, 9, 26, -100, 35, 8, 9, 7, -100])
        let loss = try TrainingMode.withDropoutKey(key) { () throws -> Tensor in
            let l = Tensor.crossEntropy(logits: try model.forward(S.ids), targets: targets)
            l.backward()
            return l
        }
        return (loss.item, params.map { $0.tensor.grad?.scalars ?? [] })
    }

    func testMasksFollowTheKeyAndACheckpointedRecomputeDrawsTheSameOnes() throws {
        let (model, params) = try adapted(dropout: 0.5)
        let (plain, plainGrads) = try lossAndGradients(model, params, key: 7)
        let (again, againGrads) = try lossAndGradients(model, params, key: 7)
        XCTAssertEqual(again, plain, "the same key draws the same masks")
        XCTAssertEqual(againGrads, plainGrads)
        let (otherKey, _) = try lossAndGradients(model, params, key: 8)
        XCTAssertNotEqual(otherKey, plain, "another key draws other masks")
        let full = try withEvalMode { try lossAndGradients(model, params, key: 7).0 }
        XCTAssertNotEqual(full, plain, "dropout is active in training mode")

        // Every layer recomputed in backward: the first pass (under no-grad) and the recompute must
        // both drop exactly as the plain forward did, or loss and gradients would differ.
        model.checkpointedLayers = model.layers.count
        defer { model.checkpointedLayers = 0 }
        let (checkpointed, checkpointedGrads) = try lossAndGradients(model, params, key: 7)
        XCTAssertEqual(checkpointed, plain)
        for (q, (a, b)) in zip(params, zip(checkpointedGrads, plainGrads)) {
            XCTAssertEqual(a.count, b.count, q.name)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-6 * max(1, abs(y)), q.name) }
        }
    }

    func testResumeWithLoRADropoutIsBitIdentical() throws {
        S.loadPlugins()
        XCTAssertNotNil(ComponentRegistry.shared.descriptor(named: "sft"), "libTemperPluginObjectives.so was not loaded")
        let data = try makeTemporaryFolder("lora-dropout-data").appendingPathComponent("train.jsonl")
        let rows = (0..<10).map { i in "{\"text\": \"\(i) plus \(i + 3) makes \(2 * i + 3), and that is all.\"}" }
        try (rows.joined(separator: "\n") + "\n").write(to: data, atomically: true, encoding: .utf8)

        func session(_ dir: URL, dropout: Double = 0.3) throws -> TrainingSession {
            var recipe = TrainingRecipe()
            for (k, v) in [("train_file", data.path), ("output_dir", dir.path), ("optimizer", "adamw"),
                           ("peft", "lora:r=4,lora_dropout=\(dropout),target_modules=all-linear"), ("learning_rate", "1e-2"),
                           ("max_steps", "6"), ("per_device_train_batch_size", "2"), ("gradient_accumulation_steps", "2"),
                           ("save_steps", "3"), ("seed", "5"), ("gradient_checkpointing", "true")] {
                try recipe.set(k, .text(v))
            }
            return try TrainingSession(recipe: recipe, pretrained: try PretrainedModel.load(from: S.tinyDir))
        }
        func weights(_ s: TrainingSession) -> [String: [Float]] {
            Dictionary(uniqueKeysWithValues: s.trainer.groups.flatMap(\.parameters).map { ($0.name, $0.tensor.scalars) })
        }
        let straight = try session(try makeTemporaryFolder("lora-dropout-straight"))
        try straight.trainer.train()

        let dir = try makeTemporaryFolder("lora-dropout-resumed")
        try session(dir).trainer.train(stopAfter: 4)   // checkpoint at 3; step 4 is lost, as in a crash
        let resumed = try session(dir)                  // a fresh process: new adapters from the same seed
        let summary = try resumed.trainer.train(resumeFrom: dir.appendingPathComponent("checkpoint-3"))
        XCTAssertEqual(summary.globalStep, 6)
        XCTAssertEqual(weights(resumed), weights(straight))

        let undropped = try session(try makeTemporaryFolder("lora-dropout-none"), dropout: 0)
        try undropped.trainer.train()
        XCTAssertNotEqual(weights(undropped), weights(straight), "lora_dropout=0.3 changed the run")
    }
}
