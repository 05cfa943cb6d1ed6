import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `temper generate/chat --adapter` and `temper merge` on Hugging Face folders: an adapter applied at
/// generation time gives exactly what its merged folder gives, for PEFT's fixture adapter and for
/// adapters `temper train` wrote; bad adapters are errors naming the file.
final class AdapterCommandTests: XCTestCase {
    typealias S = TestSupport

    override func setUp() { TestPlugins.loadBuilt() }

    func testPEFTAdapterGeneratesWhatItsMergedFolderGenerates() throws {
        let out = try makeTemporaryFolder("adapter-peft").appendingPathComponent("merged")
        let merge = try S.temper(["merge", "--model", S.tinyModel.path, "--adapter", S.tinyPEFTLoRA.path, "--output", out.path])
        XCTAssertEqual(merge.status, 0, merge.err)
        XCTAssertEqual(merge.out, "merged lora adapter (14 layers) into \(out.path): chat_template.jinja, config.json, generation_config.json, "
                       + "model.safetensors, reference_logits.json, tokenizer.json, tokenizer_config.json\n")

        let adapted = try PretrainedModel.load(from: S.tinyModel)
        let installed = try InstalledAdapter.install(from: S.tinyPEFTLoRA, into: adapted.model)
        XCTAssertEqual("\(installed)", "lora adapter \(S.tinyPEFTLoRA.path) (merged into 14 layers)")
        XCTAssertTrue(adapted.model.linearLayers.allSatisfy { $0.adapter == nil })

        // The adapted model is PEFT's: its logits are the ones PEFT saved with the adapter.
        struct Case: Decodable { let input_ids: [Int32]; let logits_last: [Float] }
        struct Root: Decodable { let cases: [Case] }
        let cases = try JSONDecoder().decode(Root.self, from: Data(contentsOf: S.tinyPEFTLoRA.appendingPathComponent("reference_logits.json"))).cases
        XCTAssertEqual(cases.count, 2)
        let v = adapted.model.config.vocabSize
        for c in cases {
            let t = c.input_ids.count
            let logits = try withNoGrad { try adapted.model.forward(Tensor(shape: [1, t], int32: c.input_ids)) }.scalars
            for (a, b) in zip(logits[(t - 1) * v ..< (t - 1) * v + 64], c.logits_last) { XCTAssertEqual(a, b, accuracy: 3e-5) }
        }

        let merged = try PretrainedModel.load(from: out)
        let base = try PretrainedModel.load(from: S.tinyModel)
        let prompt = "The capital of France is"
        let ids = try S.greedyIDs(adapted, prompt)
        XCTAssertEqual(ids, try S.greedyIDs(merged, prompt))
        XCTAssertNotEqual(ids, try S.greedyIDs(base, prompt), "the adapter must change the continuation")

        let args = ["generate", "--prompt", prompt, "--max-new-tokens", "12"]
        let viaAdapter = try S.temper(args + ["--model", S.tinyModel.path, "--adapter", S.tinyPEFTLoRA.path])
        XCTAssertEqual(viaAdapter.status, 0, viaAdapter.err)
        XCTAssertEqual(viaAdapter.out, S.printedText(adapted, ids))
        XCTAssertTrue(viaAdapter.err.hasSuffix(", lora adapter \(S.tinyPEFTLoRA.path) (merged into 14 layers)]\n"), viaAdapter.err)
        let viaMerged = try S.temper(args + ["--model", out.path])
        XCTAssertEqual(viaMerged.status, 0, viaMerged.err)
        XCTAssertEqual(viaMerged.out, viaAdapter.out)
        XCTAssertFalse(viaMerged.err.contains("adapter"), viaMerged.err)
    }

    /// `temper train` writes LoRA, prompt-tuning and prefix-tuning adapters; `generate` and `chat` apply
    /// them, `merge` folds the LoRA one and refuses the others.
    func testAdaptersThatTemperTrainWroteApplyToGenerateAndChat() throws {
        let root = try makeTemporaryFolder("adapter-train")
        func train(_ peft: String, _ name: String) throws -> URL {
            let dir = root.appendingPathComponent(name)
            let r = try S.temper(["train", "--objective", "sft", "--model", S.tinyModel.path, "--data", "examples/data/addition-train.jsonl",
                                  "--peft", peft, "--optimizer", "adamw:lr=0.05", "--max_steps", "2", "--per_device_train_batch_size", "2",
                                  "--max_length", "48", "--packing", "false", "--output_dir", dir.path])
            XCTAssertEqual(r.status, 0, r.err)
            return dir
        }
        let lora = try train("lora:r=4,lora_alpha=8,target_modules=all-linear", "lora")
        let question = "What is 12 + 30?"
        let base = try PretrainedModel.load(from: S.tinyModel)
        let baseIDs = try S.greedyIDs(base, question, chat: true)

        let merged = root.appendingPathComponent("merged")
        let merge = try S.temper(["merge", "--model", S.tinyModel.path, "--adapter", lora.path, "--output", merged.path])
        XCTAssertEqual(merge.status, 0, merge.err)
        let loraModel = try PretrainedModel.load(from: S.tinyModel)
        XCTAssertEqual(try InstalledAdapter.install(from: lora, into: loraModel.model).mergedLayers, 14)
        let loraIDs = try S.greedyIDs(loraModel, question, chat: true)
        XCTAssertEqual(loraIDs, try S.greedyIDs(try PretrainedModel.load(from: merged), question, chat: true))
        XCTAssertNotEqual(loraIDs, baseIDs, "two steps at lr 0.05 must change the continuation")

        let args = ["generate", "--chat", "--prompt", question, "--max-new-tokens", "12", "--model", S.tinyModel.path]
        let viaAdapter = try S.temper(args + ["--adapter", lora.path])
        XCTAssertEqual(viaAdapter.status, 0, viaAdapter.err)
        XCTAssertEqual(viaAdapter.out, S.printedText(loraModel, loraIDs))
        let viaMerged = try S.temper(["generate", "--chat", "--prompt", question, "--max-new-tokens", "12", "--model", merged.path])
        XCTAssertEqual(viaMerged.out, viaAdapter.out)

        // `chat` renders the same single user turn, so it prints the same reply.
        let chat = try S.temper(["chat", "--model", S.tinyModel.path, "--adapter", lora.path, "--max-new-tokens", "12"], input: question + "\n/exit\n")
        XCTAssertEqual(chat.status, 0, chat.err)
        XCTAssertEqual(chat.out, "> " + viaAdapter.out + "> ")
        XCTAssertTrue(chat.err.hasPrefix("temper chat: tiny-llama-hf + lora adapter \(lora.path) (merged into 14 layers) (/reset, /exit)\n"), chat.err)

        // Prompt and prefix tuning stay installed: the model adds their virtual tokens itself.
        let questionIDs = try base.tokenizer.encodeChat([ChatMessage(role: "user", content: question)])
        let input = Tensor(shape: [1, questionIDs.count], int32: questionIDs)
        let baseLogits = try withNoGrad { try base.model.forward(input) }.scalars
        for (method, refusal) in [("prompt-tuning", "virtual tokens cannot be merged into the weights; keep the adapter"),
                                  ("prefix-tuning", "prefix keys and values cannot be merged into the weights; keep the adapter")] {
            let adapter = try train("\(method):num_virtual_tokens=4", method)
            let adapted = try PretrainedModel.load(from: S.tinyModel)
            let installed = try InstalledAdapter.install(from: adapter, into: adapted.model)
            XCTAssertEqual("\(installed)", "\(method) adapter \(adapter.path) (4 virtual tokens)")
            // The tiny model keeps answering newlines, so the virtual tokens show in the logits only.
            let shifted = zip(try withNoGrad { try adapted.model.forward(input) }.scalars, baseLogits).map { abs($0 - $1) }.max() ?? 0
            XCTAssertGreaterThan(shifted, 1e-2, "\(method) must change the logits")
            let r = try S.temper(args + ["--adapter", adapter.path])
            XCTAssertEqual(r.status, 0, r.err)
            XCTAssertEqual(r.out, S.printedText(adapted, try S.greedyIDs(adapted, question, chat: true)))
            XCTAssertTrue(r.err.hasSuffix(", \(method) adapter \(adapter.path) (4 virtual tokens)]\n"), r.err)

            let out = root.appendingPathComponent("\(method)-merged")
            let refused = try S.temper(["merge", "--model", S.tinyModel.path, "--adapter", adapter.path, "--output", out.path])
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertEqual(refused.err, "Error: \(adapter.path): \(method): \(refusal)\n")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        }
    }

    func testBadAdaptersAreErrorsNamingTheFile() throws {
        let root = try makeTemporaryFolder("adapter-bad")
        func generate(_ adapter: URL, model: URL = S.tinyModel) throws -> String {
            let r = try S.temper(["generate", "--model", model.path, "--adapter", adapter.path, "--prompt", "Hi", "--max-new-tokens", "2"])
            XCTAssertNotEqual(r.status, 0)
            XCTAssertEqual(r.out, "")
            return r.err
        }

        let missing = root.appendingPathComponent("missing")
        XCTAssertEqual(try generate(missing), "Error: cannot apply the adapter: \(missing.path) is not a PEFT adapter: it has no adapter_config.json\n")

        let noWeights = root.appendingPathComponent("no-weights")
        try FileManager.default.createDirectory(at: noWeights, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: S.tinyPEFTLoRA.appendingPathComponent("adapter_config.json"), to: noWeights.appendingPathComponent("adapter_config.json"))
        XCTAssertEqual(try generate(noWeights), "Error: cannot apply the adapter: \(noWeights.path) has no adapter_model.safetensors\n")

        let unknown = root.appendingPathComponent("unknown-type")
        try FileManager.default.copyItem(at: S.tinyPEFTLoRA, to: unknown)
        let config = unknown.appendingPathComponent("adapter_config.json")
        let text = try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: "\"peft_type\": \"LORA\"", with: "\"peft_type\": \"LOHA\"")
        try text.write(to: config, atomically: true, encoding: .utf8)
        XCTAssertEqual(try generate(unknown), "Error: cannot apply the adapter: \(config.path): peft_type 'LOHA' is not read by any loaded "
                       + "PEFT plugin (they read IA3, LORA, PREFIX_TUNING, PROMPT_TUNING)\n")

        // A model of another width: every saved LoRA matrix has the wrong shape for it.
        let wide = root.appendingPathComponent("wide-model")
        try FileManager.default.createDirectory(at: wide, withIntermediateDirectories: true)
        let tiny = try ModelConfig(huggingFaceConfigAt: S.tinyModel)
        var config48 = tiny
        config48.hiddenSize = 48
        config48.headDim = 12
        let model = try LlamaModel(config: config48, seed: 1)
        var tensors: [String: Tensor] = [:]
        for p in model.namedParameters { tensors[p.name] = p.tensor }
        try SafetensorsCheckpoint.write(tensors, to: wide)
        try config48.huggingFaceJSON().write(to: wide.appendingPathComponent("config.json"))
        for name in ["tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: S.tinyModel.appendingPathComponent(name), to: wide.appendingPathComponent(name))
        }
        let shapeError = try generate(S.tinyPEFTLoRA, model: wide)
        let shapeMessage = "\(S.tinyPEFTLoRA.path): lora: adapter tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' "
            + "has shape [4, 32], expected [4, 48]\n"
        XCTAssertEqual(shapeError, "Error: cannot apply the adapter: " + shapeMessage)

        let out = root.appendingPathComponent("merged")
        let merge = try S.temper(["merge", "--model", wide.path, "--adapter", S.tinyPEFTLoRA.path, "--output", out.path])
        XCTAssertNotEqual(merge.status, 0)
        XCTAssertEqual(merge.err, "Error: " + shapeMessage)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.contains("merged") }, [])

        let notAModel = try S.temper(["merge", "--model", missing.path, "--output", out.path])
        XCTAssertEqual(notAModel.err, "Error: merge: \(missing.path) is neither a Hugging Face model folder with config.json nor a GGUF file\n")
    }
}
