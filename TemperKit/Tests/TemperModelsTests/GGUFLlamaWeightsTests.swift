import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

final class GGUFLlamaWeightsTests: XCTestCase {
    func testTensorNameMapping() {
        let cases = [
            "token_embd.weight": "model.embed_tokens.weight",
            "output_norm.weight": "model.norm.weight",
            "output.weight": "lm_head.weight",
            "blk.0.attn_q.weight": "model.layers.0.self_attn.q_proj.weight",
            "blk.12.attn_k.weight": "model.layers.12.self_attn.k_proj.weight",
            "blk.3.attn_v.bias": "model.layers.3.self_attn.v_proj.bias",
            "blk.3.attn_output.weight": "model.layers.3.self_attn.o_proj.weight",
            "blk.29.ffn_gate.weight": "model.layers.29.mlp.gate_proj.weight",
            "blk.29.ffn_up.weight": "model.layers.29.mlp.up_proj.weight",
            "blk.29.ffn_down.weight": "model.layers.29.mlp.down_proj.weight",
            "blk.1.attn_norm.weight": "model.layers.1.input_layernorm.weight",
            "blk.1.ffn_norm.weight": "model.layers.1.post_attention_layernorm.weight",
        ]
        for (g, hf) in cases { XCTAssertEqual(GGUFLlamaWeights.huggingFaceName(forGGUF: g), hf, g) }
        for bad in ["rope_freqs.weight", "blk.x.attn_q.weight", "blk.-1.attn_q.weight", "blk.1.attn_qq.weight",
                    "blk.1.attn_q.scale", "blk.01.attn_q.weight", "blk.1.attn_q"] {
            XCTAssertNil(GGUFLlamaWeights.huggingFaceName(forGGUF: bad), bad)
        }
    }

    func testReversePermutationOnAHandExample() {
        // One head of size 4, one column. Hugging Face rotates halves (r0, r2) and (r1, r3); the
        // GGUF layout interleaves them as r0, r2, r1, r3.
        let gguf = Tensor(shape: [4, 1], scalars: [10, 12, 11, 13])
        XCTAssertEqual(GGUFLlamaWeights.reversePermutation(gguf, heads: 1).scalars, [10, 11, 12, 13])
        // Two heads of size 4 with two columns: rows move as units, heads stay in place.
        let two = Tensor(shape: [8, 2], scalars: [0, 0, 2, 2, 1, 1, 3, 3, 4, 4, 6, 6, 5, 5, 7, 7])
        XCTAssertEqual(GGUFLlamaWeights.reversePermutation(two, heads: 2).scalars, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7])
    }

    func testPermutationRoundTrip() {
        var rng = PhiloxRNG(seed: 1)
        let hf = Tensor.randn([3 * 8, 5], rng: &rng)   // 3 heads of dimension 8
        let gguf = GGUFLlamaWeights.forwardPermutation(hf, heads: 3)
        XCTAssertNotEqual(gguf.scalars, hf.scalars)
        XCTAssertEqual(GGUFLlamaWeights.reversePermutation(gguf, heads: 3).scalars, hf.scalars)
        let bias = Tensor((0..<16).map(Float.init))
        XCTAssertEqual(GGUFLlamaWeights.reversePermutation(GGUFLlamaWeights.forwardPermutation(bias, heads: 2), heads: 2).scalars, bias.scalars)
    }

    /// A tiny Llama GGUF whose q/k weights are stored in llama.cpp's permuted order loads back into
    /// the original Hugging Face matrices.
    func testHuggingFaceWeightsFromGGUF() throws {
        var rng = PhiloxRNG(seed: 2)
        let hidden = 8, heads = 2, kvHeads = 1, headDim = 4
        let q = Tensor.randn([heads * headDim, hidden], rng: &rng)
        let k = Tensor.randn([kvHeads * headDim, hidden], rng: &rng)
        let v = Tensor.randn([kvHeads * headDim, hidden], rng: &rng)
        var b = GGUFBuilder()
        b.add("general.architecture", .string("llama"))
        b.add("llama.block_count", .uint32(1))
        b.add("llama.embedding_length", .uint32(UInt32(hidden)))
        b.add("llama.feed_forward_length", .uint32(16))
        b.add("llama.attention.head_count", .uint32(UInt32(heads)))
        b.add("llama.attention.head_count_kv", .uint32(UInt32(kvHeads)))
        b.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        b.add("llama.context_length", .uint32(64))
        b.add("tokenizer.ggml.tokens", .array(.string, (0..<4).map { .string("t\($0)") }))
        b.addF32("token_embd.weight", shape: [4, hidden], (0..<32).map(Float.init))
        b.addF32("blk.0.attn_q.weight", shape: q.shape, GGUFLlamaWeights.forwardPermutation(q, heads: heads).scalars)
        b.addF32("blk.0.attn_k.weight", shape: k.shape, GGUFLlamaWeights.forwardPermutation(k, heads: kvHeads).scalars)
        b.addF32("blk.0.attn_v.weight", shape: v.shape, v.scalars)
        let g = try GGUFFile(contentsOf: try b.write())
        let config = try ModelConfig(gguf: g)
        let w = try g.huggingFaceWeights(config: config)
        XCTAssertEqual(Set(w.keys), ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                                     "model.layers.0.self_attn.k_proj.weight", "model.layers.0.self_attn.v_proj.weight"])
        XCTAssertEqual(w["model.layers.0.self_attn.q_proj.weight"]?.scalars, q.scalars)
        XCTAssertEqual(w["model.layers.0.self_attn.k_proj.weight"]?.scalars, k.scalars)
        XCTAssertEqual(w["model.layers.0.self_attn.v_proj.weight"]?.scalars, v.scalars, "v is not permuted")
        XCTAssertEqual(w["model.embed_tokens.weight"]?.shape, [4, hidden])

        b.addF32("rope_freqs.weight", shape: [2], [1, 1])
        let extra = try GGUFFile(contentsOf: try b.write())
        XCTAssertThrowsError(try extra.huggingFaceWeights(config: config)) { e in
            XCTAssertTrue("\(e)".contains("'rope_freqs.weight' has no Hugging Face"), "\(e)")
        }
    }
}
