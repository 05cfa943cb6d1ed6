import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

/// The decoder against Hugging Face transformers' float32 outputs for the tiny 2-layer Llama in
/// fixtures/tiny-llama-hf, plus the invariants generation relies on.
final class LlamaModelTests: XCTestCase {
    static let fixtures = TestFiles.fixtures
    static let tinyDir = fixtures.appendingPathComponent("tiny-llama-hf")

    struct ReferenceCase: Decodable {
        let input_ids: [Int32]
        let logits_last: [Float]
        let logits_all_sum: Double
        let argmax: [Int]
    }

    static func referenceCases(_ file: URL) throws -> [ReferenceCase] {
        struct Root: Decodable { let cases: [ReferenceCase] }
        return try JSONDecoder().decode(Root.self, from: Data(contentsOf: file)).cases
    }

    static func argmax(_ row: UnsafePointer<Float>, _ n: Int) -> Int {
        var best = 0
        for i in 1..<n where row[i] > row[best] { best = i }
        return best
    }

    func testTinyLlamaMatchesTransformers() throws {
        let model = try LlamaModel.load(from: Self.tinyDir)
        XCTAssertEqual(model.config.numHiddenLayers, 2)
        XCTAssertTrue(model.lmHead.weight === model.embedTokens, "tied head must share the embedding tensor")
        for c in try Self.referenceCases(Self.tinyDir.appendingPathComponent("reference_logits.json")) {
            let ids = Tensor(shape: [1, c.input_ids.count], int32: c.input_ids)
            let logits = try withNoGrad { try model.forward(ids) }
            let v = model.config.vocabSize, t = c.input_ids.count
            XCTAssertEqual(logits.shape, [1, t, v])
            let all = logits.scalars
            let last = Array(all[(t - 1) * v ..< (t - 1) * v + 64])
            for (a, b) in zip(last, c.logits_last) { XCTAssertEqual(a, b, accuracy: 2e-5) }
            XCTAssertEqual(all.reduce(0.0) { $0 + Double($1) }, c.logits_all_sum, accuracy: 2e-3)
            let argmaxes = all.withUnsafeBufferPointer { p in (0..<t).map { Self.argmax(p.baseAddress! + $0 * v, v) } }
            XCTAssertEqual(argmaxes, c.argmax)
        }
    }

    func tinyRandomModel(layers: Int = 2, vocab: Int = 97) throws -> LlamaModel {
        let config = ModelConfig(vocabSize: vocab, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: layers,
                                 numAttentionHeads: 4, numKeyValueHeads: 2, rmsNormEps: 1e-5, ropeTheta: 10_000,
                                 maxPositionEmbeddings: 64, tieWordEmbeddings: true)
        return try LlamaModel(config: config, seed: 7, initStd: 0.2)
    }

    func testKVCacheDecodingEqualsFullForward() throws {
        let model = try tinyRandomModel()
        let ids: [Int32] = [3, 14, 15, 92, 65, 35, 8, 9]
        let full = try withNoGrad { try model.forward(Tensor(shape: [1, 8], int32: ids)) }
        let cache = KVCache(config: model.config, batchSize: 1, capacity: 16)
        // Prefill five tokens, then decode three one at a time.
        var step = try withNoGrad { try model.forward(Tensor(shape: [1, 5], int32: Array(ids[0..<5])), cache: cache, positions: .last) }
        XCTAssertEqual(step.shape, [1, 1, 97])
        for i in 5..<8 {
            step = try withNoGrad { try model.forward(Tensor(shape: [1, 1], int32: [ids[i]]), cache: cache) }
            let expected = Array(full.scalars[i * 97 ..< (i + 1) * 97])
            for (a, b) in zip(step.scalars, expected) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
        XCTAssertEqual(cache.length, 8)
    }

    func testLeftPaddingGivesTheUnpaddedLogits() throws {
        let model = try tinyRandomModel()
        let short: [Int32] = [5, 6, 7], long: [Int32] = [1, 2, 3, 4, 5]
        let batch = Tensor(shape: [2, 5], int32: [0, 0] + short + long)
        let mask = Tensor(shape: [2, 5], int32: [0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
        let padded = try withNoGrad { try model.forward(batch, attentionMask: mask, positions: .last) }.scalars
        let alone = try withNoGrad { try model.forward(Tensor(shape: [1, 3], int32: short), positions: .last) }.scalars
        for (a, b) in zip(padded[0..<97], alone) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        let longAlone = try withNoGrad { try model.forward(Tensor(shape: [1, 5], int32: long), positions: .last) }.scalars
        for (a, b) in zip(padded[97...], longAlone) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testPackedRowGivesEachExampleItsOwnLogits() throws {
        let model = try tinyRandomModel()
        let examples: [[Int32]] = [[3, 14, 15, 92], [65, 35], [8, 9, 79]]
        let row: [Int32] = examples.flatMap { $0 } + [0, 0]
        let segments: [Int32] = [1, 1, 1, 1, 2, 2, 3, 3, 3, 0, 0]
        let ids = Tensor(shape: [2, 11], int32: row + row)
        // Row 0 packed; row 1 the same tokens with a plain mask, where later examples see earlier ones.
        let mask = Tensor(shape: [2, 11], int32: segments + segments.map { $0 == 0 ? 0 : 1 })
        let packed = try withNoGrad { try model.forward(ids, attentionMask: mask) }.scalars
        var start = 0
        for example in examples {
            let alone = try withNoGrad { try model.forward(Tensor(shape: [1, example.count], int32: example)) }.scalars
            let inRow = Array(packed[(start * 97)..<((start + example.count) * 97)])
            for (a, b) in zip(inRow, alone) { XCTAssertEqual(a, b, accuracy: 1e-5) }
            start += example.count
        }
        // Without segments the second example's logits depend on the first's tokens.
        let crossing = Array(packed[(11 + 4) * 97 ..< (11 + 6) * 97]), own = Array(packed[4 * 97 ..< 6 * 97])
        XCTAssertGreaterThan(zip(crossing, own).map { abs($0 - $1) }.max()!, 1e-3)
        XCTAssertThrowsError(try model.forward(ids, cache: KVCache(config: model.config, batchSize: 2, capacity: 16), attentionMask: mask)) {
            XCTAssertEqual("\($0)", "a packed batch (segment numbers above 1 in the attention mask) cannot use a KV cache or virtual tokens")
        }
    }

    func testGradientsReachEveryParameterAndMatchFiniteDifferences() throws {
        let model = try tinyRandomModel(layers: 1, vocab: 31)
        for p in model.namedParameters { p.tensor.requiresGrad = true }
        let ids = Tensor(shape: [1, 6], int32: [1, 4, 9, 16, 25, 30])
        let targets = Tensor(shape: [6], int32: [4, 9, 16, 25, 30, 2])
        func loss() throws -> Tensor {
            Tensor.crossEntropy(logits: try model.forward(ids).reshape([6, 31]), targets: targets)
        }
        try loss().backward()
        for np in model.namedParameters {
            let (name, p) = (np.name, np.tensor)
            let g = try XCTUnwrap(p.grad, "no gradient for \(name)")
            XCTAssertEqual(g.shape, p.shape)
            XCTAssertTrue(g.scalars.contains { $0 != 0 }, "zero gradient for \(name)")
        }
        // Central differences on a few entries of q_proj and of the (tied) embedding.
        for (name, index) in [("model.layers.0.self_attn.q_proj.weight", 5), ("model.embed_tokens.weight", 4 * 16 + 3)] {
            let p = try XCTUnwrap(model.namedParameters.first { $0.name == name }?.tensor)
            let analytic = p.grad!.scalars[index]
            let h: Float = 1e-2
            let original = p.floatPointer[index]
            p.floatPointer[index] = original + h
            let up = try withNoGrad { try loss().item }
            p.floatPointer[index] = original - h
            let down = try withNoGrad { try loss().item }
            p.floatPointer[index] = original
            XCTAssertEqual(analytic, (up - down) / (2 * h), accuracy: 2e-3 + 2e-2 * abs(analytic), name)
        }
    }

    func testBadCheckpointsAndInputsAreClearErrors() throws {
        let model = try tinyRandomModel()
        var weights = Dictionary(uniqueKeysWithValues: model.namedParameters.map { ($0.name, $0.tensor) })
        weights.removeValue(forKey: "model.layers.1.mlp.up_proj.weight")
        XCTAssertThrowsError(try LlamaModel(config: model.config, weights: weights, source: "x.safetensors")) {
            XCTAssertTrue("\($0)".contains("missing tensor 'model.layers.1.mlp.up_proj.weight'"), "\($0)")
        }
        weights["model.layers.1.mlp.up_proj.weight"] = Tensor.zeros([3, 3])
        XCTAssertThrowsError(try LlamaModel(config: model.config, weights: weights, source: "x.safetensors")) {
            XCTAssertTrue("\($0)".contains("has shape [3, 3], expected [24, 16]"), "\($0)")
        }
        weights["model.layers.1.mlp.up_proj.weight"] = Tensor.zeros([24, 16])
        weights["model.layers.7.extra"] = Tensor.zeros([1])
        XCTAssertThrowsError(try LlamaModel(config: model.config, weights: weights, source: "x.safetensors")) {
            XCTAssertTrue("\($0)".contains("unexpected tensor 'model.layers.7.extra'"), "\($0)")
        }
        weights.removeValue(forKey: "model.layers.7.extra")
        // A non-finite frozen weight is refused at load, named (issue 15, item 7).
        for (index, bad) in [(0, Float.nan), (383, -Float.infinity), (17 * 16 + 5, Float.infinity)] {
            var values = [Float](repeating: 0.5, count: 24 * 16)
            values[index] = bad
            weights["model.layers.1.mlp.up_proj.weight"] = Tensor(shape: [24, 16], scalars: values)
            XCTAssertThrowsError(try LlamaModel(config: model.config, weights: weights, source: "x.safetensors")) {
                XCTAssertEqual("\($0)", "x.safetensors: tensor 'model.layers.1.mlp.up_proj.weight' holds a non-finite value (\(bad) at element \(index) of [24, 16])")
            }
        }
        XCTAssertThrowsError(try model.forward(Tensor(shape: [1, 2], int32: [3, 97]))) {
            XCTAssertTrue("\($0)".contains("token id 97 at position 1 is outside the vocabulary"), "\($0)")
        }
    }
}

/// The hooks prompt tuning and prefix tuning train through.
final class PrefixHookTests: XCTestCase {
    func model() throws -> LlamaModel {
        let config = ModelConfig(vocabSize: 50, hiddenSize: 16, intermediateSize: 24, numHiddenLayers: 2,
                                 numAttentionHeads: 4, numKeyValueHeads: 2, tieWordEmbeddings: true)
        return try LlamaModel(config: config, seed: 11, initStd: 0.3)
    }

    func rows(_ t: Tensor, from: Int, count: Int, vocab: Int) -> [Float] {
        Array(t.scalars[(from * vocab)..<((from + count) * vocab)])
    }

    /// Virtual tokens equal to the embeddings of real tokens give the logits of those tokens
    /// written in front of the input.
    func testVirtualTokensActLikeAPromptPrefix() throws {
        let m = try model()
        let prefixIDs: [Int32] = [7, 8, 9], ids: [Int32] = [1, 2, 3, 4]
        let reference = try withNoGrad { try m.forward(Tensor(shape: [1, 7], int32: prefixIDs + ids)) }
        m.virtualTokens = Tensor.embedding(ids: Tensor(shape: [3], int32: prefixIDs), weight: m.embedTokens).detached()
        let out = try withNoGrad { try m.forward(Tensor(shape: [1, 4], int32: ids)) }
        XCTAssertEqual(out.shape, [1, 4, 50])
        for (a, b) in zip(out.scalars, rows(reference, from: 3, count: 4, vocab: 50)) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        // Decoding with a cache after the virtual tokens matches too.
        let cache = KVCache(config: m.config, batchSize: 1, capacity: 16)
        _ = try withNoGrad { try m.forward(Tensor(shape: [1, 3], int32: Array(ids[0..<3])), cache: cache) }
        let step = try withNoGrad { try m.forward(Tensor(shape: [1, 1], int32: [ids[3]]), cache: cache) }
        for (a, b) in zip(step.scalars, rows(reference, from: 6, count: 1, vocab: 50)) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    /// Prefix keys/values equal to those the model computes for real tokens give the logits of
    /// those tokens written in front, with and without a KV cache, and gradients reach them.
    func testPrefixKeyValuesActLikeCachedTokens() throws {
        let m = try model()
        let prefixIDs: [Int32] = [5, 6], ids: [Int32] = [10, 11, 12]
        let reference = try withNoGrad { try m.forward(Tensor(shape: [1, 5], int32: prefixIDs + ids)) }
        let warm = KVCache(config: m.config, batchSize: 1, capacity: 8)
        _ = try withNoGrad { try m.forward(Tensor(shape: [1, 2], int32: prefixIDs), cache: warm) }
        m.prefixKeyValues = (0..<2).map { layer in
            let (k, v) = warm.keyValues(layer: layer)
            return (key: k.squeeze(0).copy(), value: v.squeeze(0).copy())
        }
        XCTAssertEqual(m.prefixLength, 2)
        let out = try withNoGrad { try m.forward(Tensor(shape: [1, 3], int32: ids)) }
        for (a, b) in zip(out.scalars, rows(reference, from: 2, count: 3, vocab: 50)) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        let cache = KVCache(config: m.config, batchSize: 1, capacity: 8)
        _ = try withNoGrad { try m.forward(Tensor(shape: [1, 2], int32: Array(ids[0..<2])), cache: cache,
                                           attentionMask: Tensor(shape: [1, 2], int32: [1, 1])) }
        let step = try withNoGrad { try m.forward(Tensor(shape: [1, 1], int32: [ids[2]]), cache: cache,
                                                  attentionMask: Tensor(shape: [1, 3], int32: [1, 1, 1])) }
        for (a, b) in zip(step.scalars, rows(reference, from: 4, count: 1, vocab: 50)) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        for p in m.prefixKeyValues! { p.key.requiresGrad = true; p.value.requiresGrad = true }
        try m.forward(Tensor(shape: [1, 3], int32: ids)).sum().backward()
        XCTAssertNotNil(m.prefixKeyValues![0].key.grad)
        XCTAssertNotNil(m.prefixKeyValues![1].value.grad)
    }
}
