import XCTest
@testable import TemperModels
import TemperTensor

/// Activation checkpointing recomputes layers in backward: gradients must be what they are without it.
final class CheckpointingTests: XCTestCase {
    func model() throws -> LlamaModel {
        let config = ModelConfig(vocabSize: 40, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 3,
                                 numAttentionHeads: 4, numKeyValueHeads: 2, tieWordEmbeddings: true)
        return try LlamaModel(config: config, seed: 5, initStd: 0.3)
    }

    /// Gradients of every trainable parameter for one loss, with `checkpointed` layers recomputed.
    func gradients(trainable: (String) -> Bool, checkpointed: Int) throws -> [String: [Float]] {
        let m = try model()
        m.checkpointedLayers = checkpointed
        for p in m.namedParameters { p.tensor.requiresGrad = trainable(p.name) }
        let ids = Tensor(shape: [2, 5], int32: [1, 5, 9, 13, 17, 2, 6, 10, 14, 18])
        let mask = Tensor(shape: [2, 5], int32: [1, 1, 1, 1, 1, 0, 1, 1, 1, 1])
        let logits = try m.forward(ids, attentionMask: mask)
        let loss = Tensor.crossEntropy(logits: logits.reshape([10, 40]),
                                       targets: Tensor(shape: [10], int32: [5, 9, 13, 17, 3, 6, 10, 14, 18, 4]))
        loss.backward()
        var out = [String: [Float]]()
        for p in m.namedParameters where p.tensor.requiresGrad { out[p.name] = try XCTUnwrap(p.tensor.grad, p.name).scalars }
        return out
    }

    func testAllParametersTrainable() throws {
        let plain = try gradients(trainable: { _ in true }, checkpointed: 0)
        let recomputed = try gradients(trainable: { _ in true }, checkpointed: 3)
        XCTAssertEqual(plain.keys.sorted(), recomputed.keys.sorted())
        for (name, g) in plain {
            for (a, b) in zip(g, recomputed[name]!) { XCTAssertEqual(a, b, accuracy: 1e-6, name) }
        }
    }

    /// LoRA-like: a frozen embedding means the checkpointed segment's input needs no gradient, yet the
    /// parameters inside it must still get theirs.
    func testFrozenInputTrainableInside() throws {
        let pick: (String) -> Bool = { $0.hasSuffix("q_proj.weight") || $0.hasSuffix("down_proj.weight") }
        let plain = try gradients(trainable: pick, checkpointed: 0)
        let recomputed = try gradients(trainable: pick, checkpointed: 2)
        XCTAssertEqual(plain.count, 6)
        for (name, g) in plain {
            let r = try XCTUnwrap(recomputed[name], name)
            for (a, b) in zip(g, r) { XCTAssertEqual(a, b, accuracy: 1e-6, name) }
        }
    }

    func testInferenceIgnoresCheckpointing() throws {
        let m = try model()
        let ids = Tensor(shape: [1, 4], int32: [3, 4, 5, 6])
        let plain = try withNoGrad { try m.forward(ids) }.scalars
        m.checkpointedLayers = 3
        XCTAssertEqual(try withNoGrad { try m.forward(ids) }.scalars, plain)
        XCTAssertEqual(try m.forward(ids).scalars, plain)
    }
}
