import Foundation
import XCTest
@testable import TemperModels
@testable import TemperTensor

/// A model whose projections hold block-quantized weights computes what the same model computes
/// with those weights decoded to float32.
final class QuantizedModelTests: XCTestCase {
    let config = ModelConfig(vocabSize: 70, hiddenSize: 64, intermediateSize: 96, numHiddenLayers: 2,
                             numAttentionHeads: 4, numKeyValueHeads: 2, tieWordEmbeddings: false)

    /// (quantized model, float model holding the decoded weights of the same blocks).
    func pair(_ format: QuantFormat) throws -> (LlamaModel, LlamaModel) {
        let q = try LlamaModel(config: config, seed: 3, initStd: 0.1)
        try q.quantizeProjections(to: format)
        let f = try LlamaModel(config: config, seed: 3, initStd: 0.1)
        for (lq, lf) in zip(q.linearLayers + [q.lmHead], f.linearLayers + [f.lmHead]) {
            XCTAssertTrue(lq.isQuantized)
            lf.weight = lq.weight
        }
        return (q, f)
    }

    func ids(_ b: Int, _ t: Int) -> Tensor { Tensor(shape: [b, t], int32: (0..<(b * t)).map { Int32(($0 * 7 + 3) % 70) }) }

    /// Long inputs (prefill, training) take the panel path: float arithmetic on decoded panels, so
    /// the logits agree to float rounding (1e-4).
    func testPrefillLogitsEqualThoseOfTheDecodedWeights() throws {
        for format in QuantFormat.encodable {
            let (q, f) = try pair(format)
            let a = try withNoGrad { try q.forward(ids(2, 12)) }.scalars, b = try withNoGrad { try f.forward(ids(2, 12)) }.scalars
            XCTAssertEqual(a.count, 2 * 12 * 70)
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-4, "\(format)") }
        }
    }

    /// Up to 16 rows the fused kernel quantizes activations to int8 per block: logits (of order 1
    /// here) stay within 0.06 of the float model's (measured: 0.048 Q8_0, 0.036 Q4_0, 0.033 Q4_1).
    func testDecodeLogitsStayWithinTheInt8ActivationTolerance() throws {
        let saved = QuantizedProduct.quantizesActivations
        QuantizedProduct.quantizesActivations = true
        defer { QuantizedProduct.quantizesActivations = saved }
        for format in QuantFormat.encodable {
            let (q, f) = try pair(format)
            let a = try withNoGrad { try q.forward(ids(1, 5)) }.scalars, b = try withNoGrad { try f.forward(ids(1, 5)) }.scalars
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            print("\(format) fused-path worst logit difference: \(worst)")
            XCTAssertLessThan(worst, 0.06, "\(format)")
            XCTAssertGreaterThan(b.map(abs).max()!, 0.3, "logits large enough for the tolerance to mean something")
        }
    }

    /// With float activations (the default) decoding computes the float model's logits.
    func testDecodeLogitsWithFloatActivationsEqualThoseOfTheDecodedWeights() throws {
        let saved = QuantizedProduct.quantizesActivations
        QuantizedProduct.quantizesActivations = false
        defer { QuantizedProduct.quantizesActivations = saved }
        for format in QuantFormat.encodable {
            let (q, f) = try pair(format)
            let a = try withNoGrad { try q.forward(ids(1, 5)) }.scalars, b = try withNoGrad { try f.forward(ids(1, 5)) }.scalars
            for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-4, "\(format)") }
        }
    }

    /// QLoRA's backward: gradients reach the input embeddings' consumers through the frozen blocks;
    /// the decoded float copy a quantized layer hands out never receives one.
    func testGradientsFlowThroughQuantizedLayers() throws {
        let (q, f) = try pair(.q8_0)
        func normGrads(_ m: LlamaModel) throws -> [Float] {
            for p in m.namedParameters { p.tensor.requiresGrad = false }
            let norms = m.layers.map(\.inputLayernorm.weight)
            for n in norms { n.requiresGrad = true }
            try m.forward(ids(2, 12)).sum().backward()
            return norms.flatMap { $0.grad!.scalars }
        }
        let a = try normGrads(q), b = try normGrads(f)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-3 * max(1, abs(y))) }
        XCTAssertNil(q.linearLayers[0].weight.grad)
    }

    /// Assigning a float weight (merging an adapter) turns the layer back into a float layer.
    func testAssigningAFloatWeightReplacesTheBlocks() throws {
        let (q, _) = try pair(.q4_0)
        let layer = q.linearLayers[0]
        let decoded = layer.weight
        XCTAssertEqual(decoded.name, "model.layers.0.self_attn.q_proj.weight")
        layer.weight = decoded
        XCTAssertFalse(layer.isQuantized)
        XCTAssertTrue(layer.weight === decoded)
    }

    /// A GGUF file's blocks are kept (q/k rows put back in Hugging Face order), decode to what the
    /// float loader produces, and an F16 projection stays float with a one-line note.
    func testGGUFBlocksAreKeptAndF16ProjectionsNoted() throws {
        var rng = PhiloxRNG(seed: 2)
        let hidden = 32, heads = 2, kvHeads = 1, headDim = 16
        let qw = Tensor.randn([heads * headDim, hidden], rng: &rng), vw = Tensor.randn([kvHeads * headDim, hidden], rng: &rng)
        let permuted = try QuantizedMatrix(quantizing: GGUFLlamaWeights.forwardPermutation(qw, heads: heads), format: .q8_0, name: "q")
        var b = GGUFBuilder()
        b.add("general.architecture", .string("llama"))
        b.add("llama.block_count", .uint32(1))
        b.add("llama.embedding_length", .uint32(UInt32(hidden)))
        b.add("llama.feed_forward_length", .uint32(64))
        b.add("llama.attention.head_count", .uint32(UInt32(heads)))
        b.add("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        b.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        b.add("llama.context_length", .uint32(64))
        b.add("tokenizer.ggml.tokens", .array(.string, (0..<4).map { .string("t\($0)") }))
        b.addF32("token_embd.weight", shape: [4, hidden], (0..<(4 * hidden)).map(Float.init))
        b.addTensor("blk.0.attn_q.weight", dims: [hidden, heads * headDim], type: .q8_0,
                    data: [UInt8](UnsafeRawBufferPointer(start: permuted.base, count: permuted.byteCount)))
        var half = [UInt8](repeating: 0, count: vw.count * 2)
        half.withUnsafeMutableBytes { HalfConversion.floatToF16(vw.floatPointer, $0.baseAddress!, count: vw.count) }
        b.addTensor("blk.0.attn_v.weight", dims: [hidden, kvHeads * headDim], type: .f16, data: half)
        let g = try GGUFFile(contentsOf: try b.write())
        let config = try ModelConfig(gguf: g)
        let kept = try g.huggingFaceWeights(config: config, keepQuantized: true)
        let float = try g.huggingFaceWeights(config: config)
        XCTAssertEqual(Set(kept.quantized.keys), ["model.layers.0.self_attn.q_proj.weight"])
        XCTAssertEqual(Set(kept.dense.keys), ["model.embed_tokens.weight", "model.layers.0.self_attn.v_proj.weight"])
        XCTAssertEqual(kept.quantized["model.layers.0.self_attn.q_proj.weight"]?.dequantized().scalars,
                       float["model.layers.0.self_attn.q_proj.weight"]?.scalars)
        XCTAssertEqual(kept.notes, ["\(g.path): 1 F16 tensor(s) kept in float32: F16 is not a block format (blocks kept: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K)"])
    }
}
