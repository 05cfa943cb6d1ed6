import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// LoRA SFT on the real SmolLM2-135M-Instruct, through the same session `temper train` builds:
/// a few steps on a handful of chats lower the loss on held-out chats of the same style.
final class SmolLM2LoRASFTTests: XCTestCase {
    static let modelURL = TemperRepository.root.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")

    /// Chats whose answers all open with the same unusual sign-off, which the base model would not
    /// produce: the held-out questions differ, so a lower eval loss means the style was learnt.
    static func chats(_ questions: [(String, String)]) -> String {
        questions.map { q, a in
            let row: [String: Any] = ["messages": [["role": "user", "content": q],
                                                   ["role": "assistant", "content": "Quill replies: \(a) Over and out."]]]
            return String(decoding: try! JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
    }

    func testLoRASFTLowersTheEvalLoss() throws {
        guard FileManager.default.fileExists(atPath: Self.modelURL.path) else {
            return XCTFail("\(Self.modelURL.path) is missing: run scripts/fetch-smollm2.sh")
        }
        PEFTTestSupport.loadPlugins()
        XCTAssertNotNil(ComponentRegistry.shared.descriptor(named: "sft"), "libTemperPluginObjectives.so was not loaded")
        let dir = try makeTemporaryFolder("smollm2-lora")
        let train = dir.appendingPathComponent("train.jsonl"), eval = dir.appendingPathComponent("eval.jsonl")
        try Self.chats([("What colour is the sky?", "Blue."), ("How many legs does a cat have?", "Four."),
                        ("What is 2 + 3?", "Five."), ("Name a fruit.", "An apple."),
                        ("What do bees make?", "Honey."), ("Which animal barks?", "A dog."),
                        ("What is frozen water called?", "Ice."), ("How many days are in a week?", "Seven.")])
            .write(to: train, atomically: true, encoding: .utf8)
        try Self.chats([("What colour is grass?", "Green."), ("What is 1 + 1?", "Two."),
                        ("Which animal meows?", "A cat."), ("What falls from clouds?", "Rain.")])
            .write(to: eval, atomically: true, encoding: .utf8)

        var recipe = TrainingRecipe()
        for (k, v) in [("train_file", train.path), ("eval_file", eval.path), ("output_dir", dir.appendingPathComponent("run").path),
                       ("peft", "lora:r=8,alpha=16,target_modules=all-linear"), ("optimizer", "adamw"), ("learning_rate", "2e-3"),
                       ("lr_scheduler_type", "constant"), ("max_steps", "6"), ("per_device_train_batch_size", "4"),
                       ("assistant_only_loss", "true"), ("save_steps", "1000"), ("seed", "1"),
                       ("gradient_checkpointing", "true"), ("gradient_checkpointing_layers", "18")] {
            try recipe.set(k, .text(v))
        }
        let pretrained = try PretrainedModel.load(from: Self.modelURL)
        let session = try TrainingSession(recipe: recipe, pretrained: pretrained)
        XCTAssertEqual(pretrained.model.checkpointedLayers, 18, "gradient_checkpointing_layers reaches the model")
        XCTAssertEqual(session.parameterCount.trainable, 2_442_240, "r = 8 on all 7 projections of 30 layers (PEFT prints the same)")
        let before = try session.trainer.evaluate().loss
        let summary = try session.trainer.train()
        let after = try XCTUnwrap(summary.evalLoss)
        XCTAssertTrue(before.isFinite && before > 0.5, "base model's eval loss \(before)")
        XCTAssertLessThan(after, before * 0.8, "eval loss \(before) → \(after)")
    }
}
