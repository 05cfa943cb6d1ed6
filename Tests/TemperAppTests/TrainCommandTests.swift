import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `temper train` as a user runs it: a recipe from examples/, flags overriding it, resume, and errors.
final class TrainCommandTests: XCTestCase {
    private func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try TestSupport.temper(arguments)
    }

    func testRecipeWithFlagOverridesTrainsResumesAndWritesOutputs() throws {
        let out = try makeTemporaryFolder("train").appendingPathComponent("run")
        let args = ["train", "examples/recipes/sft-full.yaml", "--output_dir", out.path, "--max-steps", "2", "--save_steps=1", "--packing", "false",
                    "--per_device_train_batch_size", "2", "--max_length", "40"]
        let r = try run(args)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("trained 2 steps"), r.out)
        XCTAssertTrue(r.err.contains("step 2/2 | loss "), r.err)
        for file in ["model.safetensors", "metrics.jsonl", "checkpoint-1/trainer_state.json", "checkpoint-2/optimizer.safetensors"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), file)
        }
        let resumed = try run(args + ["--resume_from_checkpoint", "true"])
        XCTAssertEqual(resumed.status, 0, resumed.err)
        XCTAssertTrue(resumed.err.contains("resumed from \(out.path)/checkpoint-2 at step 2/2"), resumed.err)
    }

    func testQLoRATrainsAdaptersBesideQ8Blocks() throws {
        // load_in 8bit encodes the fixture's float projections to Q8_0 at load: LoRA trains beside the
        // blocks, its first loss within quantization noise of the float run's; full fine-tuning is refused.
        func firstLoss(_ extra: [String]) throws -> Double {
            let out = try makeTemporaryFolder("qlora").appendingPathComponent("run")
            let r = try run(["train", "--objective", "sft", "--model", "fixtures/tiny-llama-hf", "--data", "examples/data/addition-train.jsonl",
                             "--peft", "lora:r=4,target_modules=all-linear", "--max_steps", "2", "--logging_steps", "1", "--output_dir", out.path] + extra)
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("adapter_model.safetensors").path), r.out)
            let line = try XCTUnwrap(String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
                .split(separator: "\n").first { $0.contains("\"loss\"") })
            let entry = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try XCTUnwrap((entry["loss"] as? NSNumber)?.doubleValue)
        }
        let float = try firstLoss([]), q8 = try firstLoss(["--load_in", "8bit"])
        XCTAssertNotEqual(float, q8, "the blocks are not the float weights")
        XCTAssertEqual(q8, float, accuracy: 0.01 * float)
        let full = try run(["train", "--objective", "sft", "--model", "fixtures/tiny-llama-hf", "--data", "examples/data/addition-train.jsonl",
                            "--peft", "full", "--load_in", "8bit", "--max_steps", "1", "--output_dir", try makeTemporaryFolder("qfull").path])
        XCTAssertNotEqual(full.status, 0)
        XCTAssertTrue(full.err.contains("full: cannot fully fine-tune a quantized model"), full.err)
    }

    func testBadFlagsAndDataAreClearErrors() throws {
        let typo = try run(["train", "--model", "m", "--learning_rat", "1e-3"])
        XCTAssertNotEqual(typo.status, 0)
        XCTAssertTrue(typo.err.contains("--learning_rat: unknown field 'learning_rat'. Did you mean 'learning_rate'?"), typo.err)
        let dir = try makeTemporaryFolder("train-bad")
        let data = dir.appendingPathComponent("bad.jsonl")
        try "{\"text\": \"ok\"}\n{\"messages\": [{\"role\": \"user\"}]}\n".write(to: data, atomically: true, encoding: .utf8)
        let bad = try run(["train", "--model", TemperRepository.fixtures.appendingPathComponent("tiny-llama-hf").path, "--data", data.path,
                           "--output_dir", dir.appendingPathComponent("run").path, "--max_steps", "1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("\(data.path):2: field 'messages[0].content': missing"), bad.err)
        // An output folder that is a file, or cannot be made, is named as the setting it is (issue 15).
        try "{\"text\": \"ok\"}\n".write(to: data, atomically: true, encoding: .utf8)
        let file = dir.appendingPathComponent("taken")
        try "x".write(to: file, atomically: true, encoding: .utf8)
        for (output, expected) in [(file.path, "Error: output_dir \(file.path) is a file, not a folder"),
                                   (file.path + "/run", "Error: output_dir \(file.path)/run cannot be created (")] {
            let taken = try run(["train", "--model", TemperRepository.fixtures.appendingPathComponent("tiny-llama-hf").path, "--data", data.path,
                                 "--output_dir", output, "--max_steps", "1"])
            XCTAssertNotEqual(taken.status, 0)
            XCTAssertTrue(taken.err.contains(expected), taken.err)
        }
    }
}
