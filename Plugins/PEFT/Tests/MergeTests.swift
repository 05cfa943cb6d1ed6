import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `temper merge`'s engine: the PEFT-written fixture adapter merged into the fixture model gives
/// PEFT's adapted logits from a plain model folder.
final class MergeTests: XCTestCase {
    typealias S = PEFTTestSupport

    func testMergedFolderReproducesTheAdaptedModel() throws {
        S.loadPlugins()
        let root = try makeTemporaryFolder("peft")
        let out = root.appendingPathComponent("merged")
        let summary = try AdapterMerging.merge(modelDirectory: S.tinyDir, adapterDirectory: S.tinyDir.appendingPathComponent("peft-lora"),
                                               outputDirectory: out)
        XCTAssertEqual(summary.method, "lora")
        XCTAssertEqual(summary.mergedLayers, 14)
        XCTAssertEqual(summary.files, ["chat_template.jinja", "config.json", "generation_config.json", "model.safetensors",
                                       "reference_logits.json", "tokenizer.json", "tokenizer_config.json"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), ["merged"])   // no staging left behind

        let merged = try LlamaModel.load(from: out)
        XCTAssertTrue(merged.linearLayers.allSatisfy { $0.adapter == nil })
        struct Case: Decodable { let input_ids: [Int32]; let logits_last: [Float]; let logits_all_sum: Double }
        struct Root: Decodable { let cases: [Case] }
        let cases = try JSONDecoder().decode(Root.self, from: Data(contentsOf: S.tinyDir.appendingPathComponent("peft-lora/reference_logits.json"))).cases
        let v = merged.config.vocabSize
        for c in cases {
            let t = c.input_ids.count
            let all = try withNoGrad { try merged.forward(Tensor(shape: [1, t], int32: c.input_ids)) }.scalars
            for (a, b) in zip(all[(t - 1) * v ..< (t - 1) * v + 64], c.logits_last) { XCTAssertEqual(a, b, accuracy: 3e-5) }
            XCTAssertEqual(all.reduce(0.0) { $0 + Double($1) }, c.logits_all_sum, accuracy: 3e-3)
        }

        XCTAssertThrowsError(try AdapterMerging.merge(modelDirectory: S.tinyDir, adapterDirectory: S.tinyDir.appendingPathComponent("peft-lora"),
                                                      outputDirectory: out)) { XCTAssertTrue("\($0)".contains("already exists"), "\($0)") }
    }

    func testMethodsThatCannotMergeSaySo() throws {
        let root = try makeTemporaryFolder("peft")
        let model = try LlamaModel.load(from: S.tinyDir)
        let prompt = try S.method("prompt-tuning:num_virtual_tokens=2")
        _ = try prompt.apply(to: model)
        let adapterDir = root.appendingPathComponent("adapter")
        try PEFTAdapterFiles.write(try prompt.export(), to: adapterDir)
        XCTAssertThrowsError(try AdapterMerging.merge(modelDirectory: S.tinyDir, adapterDirectory: adapterDir,
                                                      outputDirectory: root.appendingPathComponent("out"))) {
            XCTAssertTrue("\($0)".contains("cannot be merged"), "\($0)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("out").path))
    }
}
