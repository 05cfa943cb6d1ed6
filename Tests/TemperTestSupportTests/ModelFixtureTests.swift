import TemperCore
import TemperTestSupport
import XCTest

final class ModelFixtureTests: XCTestCase {
    func testToyAdaptableModelHasHuggingFaceNamesAndChainsItsLayers() {
        let model = ToyAdaptableModel()
        XCTAssertEqual(model.namedParameters.map(\.name), ["model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.up_proj.bias",
                                                           "model.layers.0.mlp.down_proj.weight", "model.layers.0.mlp.down_proj.bias"])
        XCTAssertEqual(model.namedParameters.map(\.tensor.shape), [[4, 3], [4], [3, 4], [3]])
        let x = Tensor(shape: [2, 3], scalars: [1, 0, -1, 0.5, 2, 0])
        let up = model.linearLayers[0], down = model.linearLayers[1]
        assertClose(model.forward(x), x.linear(up.weight, bias: up.bias).linear(down.weight, bias: down.bias))
        XCTAssertEqual(ToyAdaptableModel(seed: 1).namedParameters[0].tensor.scalars, model.namedParameters[0].tensor.scalars)
        XCTAssertNotEqual(ToyAdaptableModel(seed: 2).namedParameters[0].tensor.scalars, model.namedParameters[0].tensor.scalars)
        XCTAssertEqual(ToyAdaptableModel(layers: [("lm_head", 5, 3)], bias: false).namedParameters.map(\.name), ["lm_head.weight"])
    }

    func testTinyLlamaIsSeededAndSmall() throws {
        let ids = Tensor(shape: [2, 5], int32: [3, 14, 15, 9, 26, 5, 35, 8, 9, 7])
        let a = try TinyLlama.model(), b = try TinyLlama.model(), c = try TinyLlama.model(seed: 4)
        let logits = try withNoGrad { try a.forward(ids) }
        XCTAssertEqual(logits.shape, [2, 5, 61])
        XCTAssertEqual(try withNoGrad { try b.forward(ids) }.scalars, logits.scalars)
        XCTAssertGreaterThan(maxDifference(try withNoGrad { try c.forward(ids) }.scalars, logits.scalars), 1e-3)
        let withBias = try TinyLlama.model(vocabSize: 10, attentionBias: true)
        XCTAssertTrue(withBias.namedParameters.contains { $0.name == "model.layers.1.self_attn.q_proj.bias" })
        XCTAssertEqual(withBias.config.vocabSize, 10)
    }

    func testFixedLogitsModelChecksTheBatchItIsAskedFor() throws {
        let model = FixedLogitsModel(Tensor.zeros([1, 2, 3]))
        XCTAssertEqual(try model.logits(inputIDs: Tensor(shape: [1, 2], int32: [0, 1]), attentionMask: nil).shape, [1, 2, 3])
        XCTAssertThrowsError(try model.logits(inputIDs: Tensor(shape: [2, 2], int32: [0, 1, 0, 1]), attentionMask: nil)) { error in
            XCTAssertEqual("\(error)", "FixedLogitsModel: logits [1, 2, 3] do not cover input ids [2, 2] (expected [batch, seq, vocab])")
        }
    }
}
