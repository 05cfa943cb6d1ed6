import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

/// Samplers on hand-made logits, and generation invariants on a tiny random model.
final class GenerationTests: XCTestCase {
    /// Draws `n` tokens from fixed logits and returns how often each id came up.
    func histogram(_ logits: [Float], _ params: SamplingParameters, n: Int = 4000, seen: [Int32] = []) -> [Int: Int] {
        var sampler = Sampler(parameters: params)
        var rng = PhiloxRNG(seed: 1)
        var counts = [Int: Int]()
        logits.withUnsafeBufferPointer { p in
            for _ in 0..<n { counts[Int(sampler.sample(p.baseAddress!, vocab: logits.count, seen: seen, rng: &rng).0), default: 0] += 1 }
        }
        return counts
    }

    // log-probabilities of 0.5, 0.25, 0.15, 0.1
    let logits: [Float] = [0.5, 0.25, 0.15, 0.1].map { Foundation.log($0) }

    func testGreedyPicksArgmaxAndReportsItsLogProb() {
        var s = Sampler(parameters: SamplingParameters(temperature: 0))
        var rng = PhiloxRNG(seed: 0)
        let (id, lp) = logits.withUnsafeBufferPointer { s.sample($0.baseAddress!, vocab: 4, seen: [], rng: &rng) }
        XCTAssertEqual(id, 0)
        XCTAssertEqual(lp, Foundation.log(0.5), accuracy: 1e-6)
    }

    func testTemperatureOneSamplesTheModelDistribution() {
        let h = histogram(logits, SamplingParameters(temperature: 1), n: 20000)
        for (i, p) in [0.5, 0.25, 0.15, 0.1].enumerated() {
            XCTAssertEqual(Double(h[i, default: 0]) / 20000, p, accuracy: 0.015)
        }
    }

    func testTopKTopPAndMinPTruncate() {
        XCTAssertEqual(Set(histogram(logits, SamplingParameters(temperature: 1, topK: 2)).keys), [0, 1])
        // top-p 0.7: 0.5 + 0.25 reaches it, so ids 0 and 1 survive.
        XCTAssertEqual(Set(histogram(logits, SamplingParameters(temperature: 1, topP: 0.7)).keys), [0, 1])
        XCTAssertEqual(Set(histogram(logits, SamplingParameters(temperature: 1, topP: 0.8)).keys), [0, 1, 2])
        // min-p 0.3: keep p ≥ 0.15.
        XCTAssertEqual(Set(histogram(logits, SamplingParameters(temperature: 1, minP: 0.3)).keys), [0, 1, 2])
        let h = histogram(logits, SamplingParameters(temperature: 1, topK: 2), n: 12000)
        XCTAssertEqual(Double(h[0]!) / 12000, 2.0 / 3.0, accuracy: 0.02, "renormalised over the kept tokens")
    }

    func testRepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        // Token 0 (logit 1.0, seen) is penalised to 0.5 < token 1's 0.8; token 2 (-1, seen) to -2.
        let l: [Float] = [1.0, 0.8, -1.0]
        var s = Sampler(parameters: SamplingParameters(temperature: 0, repetitionPenalty: 2))
        var rng = PhiloxRNG(seed: 0)
        let (id, lp) = l.withUnsafeBufferPointer { s.sample($0.baseAddress!, vocab: 3, seen: [0, 2, 0], rng: &rng) }
        XCTAssertEqual(id, 1)
        let z = Foundation.log(Foundation.exp(0.5) + Foundation.exp(0.8) + Foundation.exp(-2.0))
        XCTAssertEqual(Double(lp), 0.8 - z, accuracy: 1e-5)
    }

    func testInvalidParametersAreRejected() {
        XCTAssertThrowsError(try SamplingParameters(topP: 0).validate()) { XCTAssertTrue("\($0)".contains("top_p")) }
        XCTAssertThrowsError(try SamplingParameters(temperature: -1).validate()) { XCTAssertTrue("\($0)".contains("temperature")) }
        XCTAssertThrowsError(try SamplingParameters(stopStrings: [""]).validate())
    }

    /// A tiny model over a 256-symbol byte "tokenizer" made for the test.
    func tinyGenerator() throws -> Generator {
        let config = ModelConfig(vocabSize: 256, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2,
                                 numAttentionHeads: 2, numKeyValueHeads: 1, tieWordEmbeddings: true)
        let model = try LlamaModel(config: config, seed: 3, initStd: 0.5)
        let vocab = (0..<256).map { ByteLevelAlphabet.encode([UInt8($0)]) }
        let tokenizer = try Tokenizer(TokenizerDefinition(tokens: vocab, merges: [], addedTokens: [], preTokenizer: .byteLevel(addPrefixSpace: false, useRegex: false)))
        return Generator(model: model, tokenizer: tokenizer)
    }

    func testSamplingIsReproducibleAndIndependentOfBatchMates() throws {
        let g = try tinyGenerator()
        let params = SamplingParameters(maxNewTokens: 12, temperature: 1, seed: 42)
        let a = try g.generate(prompts: [[10, 20, 30]], parameters: params)
        let b = try g.generate(prompts: [[10, 20, 30]], parameters: params)
        XCTAssertEqual(a, b)
        // The same prompt as row 0 of a batch with a longer neighbour draws the same tokens.
        let batch = try g.generate(prompts: [[10, 20, 30], [1, 2, 3, 4, 5, 6]], parameters: params)
        XCTAssertEqual(batch[0].tokenIds, a[0].tokenIds)
        let other = try g.generate(prompts: [[10, 20, 30]], parameters: SamplingParameters(maxNewTokens: 12, temperature: 1, seed: 43))
        XCTAssertNotEqual(other[0].tokenIds, a[0].tokenIds)
        XCTAssertEqual(a[0].logProbs.count, 12)
        XCTAssertTrue(a[0].logProbs.allSatisfy { $0 <= 0 && $0.isFinite })
    }

    func testStopTokensAndStopStringsEndSequencesIndependently() throws {
        let g = try tinyGenerator()
        let free = try g.generate(prompts: [[65, 66], [67]], parameters: SamplingParameters(maxNewTokens: 10))
        // Stop on the third greedy token of row 0: row 0 ends there, row 1 runs on unchanged.
        let stopID = free[0].tokenIds[2]
        let stopped = try g.generate(prompts: [[65, 66], [67]], parameters: SamplingParameters(maxNewTokens: 10, stopTokenIds: [stopID]))
        let firstStop = free[0].tokenIds.firstIndex(of: stopID)!
        XCTAssertEqual(stopped[0].tokenIds, Array(free[0].tokenIds[...firstStop]))
        XCTAssertEqual(stopped[0].finishReason, .stopToken)
        if let j = free[1].tokenIds.firstIndex(of: stopID) {
            XCTAssertEqual(stopped[1].tokenIds, Array(free[1].tokenIds[...j]))
        } else {
            XCTAssertEqual(stopped[1].tokenIds, free[1].tokenIds)
            XCTAssertEqual(stopped[1].finishReason, .length)
        }
        // A stop string made of the 2nd and 3rd generated bytes cuts the text before it.
        let text = g.tokenizer.decode(free[0].tokenIds)
        let stop = g.tokenizer.decode(free[0].tokenIds[1...2])
        let cut = try g.generate(prompts: [[65, 66]], parameters: SamplingParameters(maxNewTokens: 10, stopStrings: [stop]))[0]
        XCTAssertEqual(cut.finishReason, .stopString)
        XCTAssertEqual(cut.text, String(text[..<text.range(of: stop)!.lowerBound]))
    }
}
