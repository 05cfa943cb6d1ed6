import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

/// Checks against the real SmolLM2-135M-Instruct Q4_1 GGUF (fetched by scripts/fetch-smollm2.sh).
final class SmolLM2GGUFTests: XCTestCase {
    static var modelURL: URL {
        if let p = ProcessInfo.processInfo.environment["TEMPER_SMOLLM2_GGUF"] { return URL(fileURLWithPath: p) }
        return TestFiles.repositoryRoot.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    }

    func openModel() throws -> GGUFFile {
        let url = Self.modelURL
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelFormatError(file: url.path, "missing: run scripts/fetch-smollm2.sh to download SmolLM2-135M-Instruct")
        }
        return try GGUFFile(contentsOf: url)
    }

    func testMetadataAndConfig() throws {
        let g = try openModel()
        XCTAssertEqual(g.version, 3)
        XCTAssertEqual(try g.metadata.string("general.architecture"), "llama")
        XCTAssertEqual(try g.metadata.string("tokenizer.ggml.model"), "gpt2")
        XCTAssertEqual(try g.metadata.stringArray("tokenizer.ggml.tokens").prefix(3), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        XCTAssertEqual(try g.metadata.stringArray("tokenizer.ggml.merges").count, 48900)
        let c = try ModelConfig(gguf: g)
        XCTAssertEqual(c.numHiddenLayers, 30)
        XCTAssertEqual(c.hiddenSize, 576)
        XCTAssertEqual(c.numAttentionHeads, 9)
        XCTAssertEqual(c.numKeyValueHeads, 3)
        XCTAssertEqual(c.headDim, 64)
        XCTAssertEqual(c.intermediateSize, 1536)
        XCTAssertEqual(c.vocabSize, 49152)
        XCTAssertEqual(c.ropeTheta, 100000)
        XCTAssertEqual(c.maxPositionEmbeddings, 8192)
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertEqual(c.bosTokenId, 1)
        XCTAssertEqual(c.eosTokenIds, [2])
        XCTAssertEqual(g.tensorInfos.count, 2 + 9 * 30)
        XCTAssertEqual(g.tensorInfo(named: "blk.0.attn_q.weight")?.type, .q4_1)
        XCTAssertEqual(g.tensorInfo(named: "token_embd.weight")?.type, .q8_0)
        for info in g.tensorInfos { XCTAssertNotNil(GGUFLlamaWeights.huggingFaceName(forGGUF: info.name), info.name) }
    }

    func testDequantizedWeightsHaveSaneScale() throws {
        let g = try openModel()
        for (name, shape) in [("blk.0.attn_q.weight", [576, 576]), ("blk.5.ffn_down.weight", [576, 1536]),
                              ("blk.29.attn_k.weight", [192, 576])] {
            let t = try g.tensor(named: name)
            XCTAssertEqual(t.shape, shape, name)
            let v = t.scalars
            XCTAssertTrue(v.allSatisfy(\.isFinite), name)
            let mean = v.reduce(0, +) / Float(v.count)
            let rms = (v.map { $0 * $0 }.reduce(0, +) / Float(v.count)).squareRoot()
            XCTAssertLessThan(abs(mean), 0.01, name)
            XCTAssertGreaterThan(rms, 0.01, name)
            XCTAssertLessThan(rms, 0.5, name)
            XCTAssertGreaterThan(Set(v.prefix(4096)).count, 16, "\(name) holds more than one block's worth of levels")
        }
        let norm = try g.tensor(named: "output_norm.weight")
        XCTAssertEqual(norm.shape, [576])
        let embed = try g.tensor(named: "token_embd.weight")
        XCTAssertEqual(embed.shape, [49152, 576])
        XCTAssertTrue(embed.scalars.allSatisfy(\.isFinite))
    }
}
