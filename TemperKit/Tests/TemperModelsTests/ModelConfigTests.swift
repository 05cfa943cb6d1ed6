import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

final class ModelConfigTests: XCTestCase {
    func parse(_ json: String) throws -> ModelConfig {
        try ModelConfig(huggingFaceJSON: Data(json.utf8), source: "config.json")
    }

    func assertConfigError(_ json: String, _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(json), file: file, line: line) { e in
            for f in fragments where !"\(e)".contains(f) { XCTFail("'\(e)' does not mention '\(f)'", file: file, line: line) }
        }
    }

    let base = #""vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4"#

    func testTinyLlamaFixture() throws {
        let c = try ModelConfig(huggingFaceConfigAt: TestFiles.fixtures.appendingPathComponent("tiny-llama-hf/config.json"))
        XCTAssertEqual(c, ModelConfig(modelType: .llama, vocabSize: 49152, hiddenSize: 32, intermediateSize: 64,
                                      numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 8,
                                      rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 256,
                                      tieWordEmbeddings: true, attentionBias: false, attentionOutputBias: false,
                                      bosTokenId: 1, eosTokenIds: [2]))
    }

    func testArchitecturesDefaultsAndBias() throws {
        let q = try parse("{\"model_type\": \"qwen2\", \(base), \"num_key_value_heads\": 2, \"rope_theta\": 1000000.0, \"eos_token_id\": [3, 5], \"tie_word_embeddings\": true}")
        XCTAssertEqual(q.modelType, .qwen2)
        XCTAssertTrue(q.attentionBias)
        XCTAssertFalse(q.attentionOutputBias)
        XCTAssertEqual(q.ropeTheta, 1_000_000)
        XCTAssertEqual(q.eosTokenIds, [3, 5])
        XCTAssertEqual(q.headDim, 16)
        XCTAssertEqual(q.maxPositionEmbeddings, 32768)

        let m = try parse("{\"model_type\": \"mistral\", \(base), \"head_dim\": null, \"bos_token_id\": null}")
        XCTAssertEqual(m.modelType, .mistral)
        XCTAssertEqual(m.numKeyValueHeads, 4)
        XCTAssertEqual(m.headDim, 16)
        XCTAssertEqual(m.rmsNormEps, 1e-6)
        XCTAssertEqual(m.ropeTheta, 10000)
        XCTAssertNil(m.bosTokenId)
        XCTAssertFalse(m.attentionBias)

        let l = try parse("{\"model_type\": \"llama\", \(base), \"attention_bias\": true, \"rope_theta\": 5e5, \"rope_scaling\": null}")
        XCTAssertTrue(l.attentionBias)
        XCTAssertTrue(l.attentionOutputBias)
        XCTAssertEqual(l.ropeTheta, 500_000)
    }

    func testBadConfigsAreClearErrors() {
        assertConfigError("{\"model_type\": \"gpt2\", \(base)}", ["config.json", "model_type 'gpt2' is not supported", "llama"])
        assertConfigError("{\(base)}", ["'model_type' is missing"])
        assertConfigError(#"{"model_type": "llama", "vocab_size": 10, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2}"#, ["'hidden_size' is missing"])
        assertConfigError("{\"model_type\": \"llama\", \(base), \"num_key_value_heads\": \"two\"}", ["'num_key_value_heads'", "expected an integer"])
        assertConfigError("{\"model_type\": \"llama\", \(base), \"num_key_value_heads\": 3}", ["not a multiple of num_key_value_heads 3"])
        assertConfigError("{\"model_type\": \"llama\", \(base), \"hidden_act\": \"gelu\"}", ["hidden_act 'gelu'"])
        assertConfigError("{\"model_type\": \"llama\", \(base), \"rope_scaling\": {\"rope_type\": \"llama3\"}}", ["rope_scaling", "llama3"])
        assertConfigError("{\"model_type\": \"llama\", \(base), \"rope_parameters\": {\"rope_type\": \"yarn\", \"rope_theta\": 1}}", ["rope_parameters.rope_type 'yarn'"])
        assertConfigError("{\"model_type\": \"llama\", \(base), \"tie_word_embeddings\": 1}", ["'tie_word_embeddings'", "true or false"])
        assertConfigError("{\"model_type\": \"llama\", \(base), \"eos_token_id\": 100}", ["special token id 100"])
        assertConfigError("not json", ["config.json", "not valid JSON"])
    }

    /// Sizes read from a file are checked against the machine before anything is allocated (a GGUF
    /// with block_count 0xFFFFFFFF, or num_hidden_layers 2^40, aborted the process in the allocator).
    func testSizesBeyondMemoryAreErrorsBeforeAllocating() throws {
        let huge = #""vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4, "model_type": "llama""#
        assertConfigError("{\(huge), \"num_hidden_layers\": 1099511627776}",
                          ["config.json", "num_hidden_layers 1099511627776) describe a model of", "GB of float32 weights, more than this machine's"])
        assertConfigError("{\(huge), \"num_hidden_layers\": 4611686018427387904}", ["a model of more weights than can be counted"])
        var gguf = try parse("{\"model_type\": \"llama\", \(base)}")
        gguf.numHiddenLayers = Int(UInt32.max)
        XCTAssertThrowsError(try LlamaModel(config: gguf, seed: 1)) { XCTAssertTrue("\($0)".contains("num_hidden_layers 4294967295"), "\($0)") }
    }

    /// Found by temper-fuzz (config-json): head_dim and num_attention_heads of 10^18 each passed
    /// the positivity checks, then their product overflowed in parameterCount and trapped. The
    /// minimized config, as the fuzzer wrote it:
    func testAttentionWidthOverflowIsAnErrorNotATrap() throws {
        let fuzzed = #"{"arres":["LlLM"],"as":false,"ad":1,"dtype":"flo","e_id":2,"head_dim":1e+18,"h":"silu","hidden_size":32,"er_e":0.02,"intermediate_size":64,"gs":256,"mlps":false,"model_type":"llama","num_attention_heads":1e+18,"num_hidden_layers":2,"numd":null,"rmss":1e-05,"ropers":{"rope_theta":10000,"rope_type":"default"},"tie_wosion":"5.24.0","use_cache":true,"vocab_size":49152}"#
        assertConfigError(fuzzed, ["config.json: the sizes (vocab_size 49152, hidden_size 32, intermediate_size 64, num_attention_heads 1000000000000000000, "
                                   + "num_key_value_heads 1000000000000000000, head_dim 1000000000000000000, num_hidden_layers 2) "
                                   + "describe a model of more weights than can be counted"])
        var c = try parse("{\"model_type\": \"llama\", \(base)}")
        c.numKeyValueHeads = 1 << 62
        c.numAttentionHeads = 1 << 62
        XCTAssertNil(c.parameterCount)
    }

    func testParameterCountIsTheModels() throws {
        for tied in [true, false] {
            var c = try parse("{\"model_type\": \"llama\", \(base), \"num_key_value_heads\": 2}")
            c.tieWordEmbeddings = tied
            XCTAssertEqual(c.parameterCount, try LlamaModel(config: c, seed: 1).parameterCount)
        }
    }

    func testHuggingFaceJSONRoundTrip() throws {
        for json in ["{\"model_type\": \"qwen2\", \(base), \"eos_token_id\": [3, 5]}",
                     "{\"model_type\": \"llama\", \(base), \"attention_bias\": true, \"bos_token_id\": 1, \"eos_token_id\": 2}"] {
            let c = try parse(json)
            XCTAssertEqual(try ModelConfig(huggingFaceJSON: c.huggingFaceJSON(), source: "written"), c)
        }
    }

    func testConfigFromGGUFMetadata() throws {
        var b = GGUFBuilder()
        b.add("general.architecture", .string("llama"))
        b.add("llama.block_count", .uint32(2))
        b.add("llama.embedding_length", .uint32(64))
        b.add("llama.feed_forward_length", .uint32(96))
        b.add("llama.attention.head_count", .uint32(4))
        b.add("llama.attention.head_count_kv", .uint32(2))
        b.add("llama.rope.freq_base", .float32(100000))
        b.add("llama.attention.layer_norm_rms_epsilon", .float32(1e-5))
        b.add("llama.context_length", .uint32(512))
        b.add("tokenizer.ggml.tokens", .array(.string, (0..<10).map { .string("t\($0)") }))
        b.add("tokenizer.ggml.bos_token_id", .uint32(1))
        b.add("tokenizer.ggml.eos_token_id", .uint32(2))
        b.addF32("token_embd.weight", shape: [10, 64], [Float](repeating: 0, count: 640))
        let c = try ModelConfig(gguf: GGUFFile(contentsOf: try b.write()))
        XCTAssertEqual(c, ModelConfig(modelType: .llama, vocabSize: 10, hiddenSize: 64, intermediateSize: 96,
                                      numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 16,
                                      rmsNormEps: Double(Float(1e-5)), ropeTheta: 100000, maxPositionEmbeddings: 512,
                                      tieWordEmbeddings: true, attentionBias: false, attentionOutputBias: false,
                                      bosTokenId: 1, eosTokenIds: [2]))

        b.addF32("output.weight", shape: [10, 64], [Float](repeating: 0, count: 640))
        b.addF32("blk.0.attn_q.bias", shape: [64], [Float](repeating: 0, count: 64))
        let c2 = try ModelConfig(gguf: GGUFFile(contentsOf: try b.write()))
        XCTAssertFalse(c2.tieWordEmbeddings)
        XCTAssertTrue(c2.attentionBias)

        var bad = GGUFBuilder()
        bad.add("general.architecture", .string("falcon"))
        XCTAssertThrowsError(try ModelConfig(gguf: GGUFFile(contentsOf: try bad.write()))) { e in
            XCTAssertTrue("\(e)".contains("architecture 'falcon' is not supported"), "\(e)")
        }
        b.metadata.removeAll { $0.0 == "llama.block_count" }
        XCTAssertThrowsError(try ModelConfig(gguf: GGUFFile(contentsOf: try b.write()))) { e in
            XCTAssertTrue("\(e)".contains("'llama.block_count' is missing"), "\(e)")
        }
    }
}
