import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// PEFT methods on a base whose projections are held in Q8_0 blocks (QLoRA): adapters install
/// without decoding the blocks, and methods that need the float weight are refused by name.
final class QuantizedBaseTests: XCTestCase {
    typealias S = PEFTTestSupport

    /// A one-layer model whose seven projections are Q8_0 blocks (every row a whole number of
    /// 32-blocks), and the same model left in float32.
    private func models() throws -> (quantized: LlamaModel, float: LlamaModel) {
        let config = ModelConfig(vocabSize: 61, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 1, numAttentionHeads: 2,
                                 maxPositionEmbeddings: 32)
        let quantized = try LlamaModel(config: config, seed: 5)
        for layer in quantized.linearLayers { try layer.quantize(to: .q8_0) }
        return (quantized, try LlamaModel(config: config, seed: 5))
    }

    func testLoRAKeepsTheBlocksAndCountsThemWithoutDecoding() throws {
        let (model, float) = try models()
        let count = try S.method("lora:r=4,target_modules=all-linear").apply(to: model)
        XCTAssertTrue(model.linearLayers.allSatisfy(\.isQuantized), "installing adapters leaves the blocks in place")
        XCTAssertEqual(count.total - count.trainable, float.parameterCount, "blocks counted from their shapes")
        XCTAssertEqual(model.floatNamedParameters.map(\.name), float.namedParameters.map(\.name).filter { !$0.hasSuffix("_proj.weight") })
        XCTAssertEqual(model.namedParameters.map(\.name), float.namedParameters.map(\.name), "the full list still names every weight")
    }

    func testMergeWritesFloatWeightsAndUnmergePutsTheBlocksBack() throws {
        for spec in ["lora:r=4,target_modules=all-linear", "ia3"] {
            let (model, _) = try models()
            let blocks = model.linearLayers.map { $0.quantizedWeight.map(ObjectIdentifier.init) }
            let method = try S.method(spec)
            _ = try method.apply(to: model)
            let layers = model.linearLayers.filter { $0.adapter != nil }
            XCTAssertFalse(layers.isEmpty, spec)
            try method.merge(into: model)
            XCTAssertTrue(layers.allSatisfy { !$0.isQuantized }, "\(spec): a merged weight is float")
            try method.unmerge(from: model)
            XCTAssertTrue(model.linearLayers.allSatisfy(\.isQuantized), "\(spec): unmerge restores the blocks")
            XCTAssertEqual(model.linearLayers.map { $0.quantizedWeight.map(ObjectIdentifier.init) }, blocks, "\(spec): the very same blocks")
        }
    }

    func testMethodsThatNeedTheFloatWeightAreRefused() throws {
        let blocks = "model.layers.0.self_attn.q_proj is held in Q8_0 blocks; use lora (kaiming or gaussian init) or ia3 on a quantized model, " +
            "or load it in float32 (without --keep-quantized / --load_in)"
        for (spec, message) in [("dora:r=4,target_modules=all-linear", "dora: DoRA needs the float weight, and " + blocks),
                                ("lora:r=4,init_lora_weights=pissa,target_modules=all-linear", "lora: init_lora_weights=pissa needs the float weight, and " + blocks)] {
            XCTAssertThrowsError(try S.method(spec).apply(to: try models().quantized)) { XCTAssertEqual("\($0)", message) }
        }
        XCTAssertThrowsError(try S.method("full").apply(to: try models().quantized)) {
            XCTAssertTrue("\($0)".hasPrefix("full: cannot fully fine-tune a quantized model (model.layers.0.self_attn.q_proj is held in Q8_0 blocks)"), "\($0)")
        }
    }
}
