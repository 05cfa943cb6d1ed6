import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

/// Samplers on hand-made logits, and generation invariants on a tiny random model.
final class GenerationTests: XCTestCase {
    /// Draws `n` tokens from fixed logits and returns how often each id came up.
    func histogram(_ logits: [Float], _ params: GenerationOptions, n: Int = 4000, seen: [Int32] = []) -> [Int: Int] {
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
        var s = Sampler(parameters: GenerationOptions(temperature: 0))
        var rng = PhiloxRNG(seed: 0)
        let (id, lp) = logits.withUnsafeBufferPointer { s.sample($0.baseAddress!, vocab: 4, seen: [], rng: &rng) }
        XCTAssertEqual(id, 0)
        XCTAssertEqual(lp, Foundation.log(0.5), accuracy: 1e-6)
    }

    func testTemperatureOneSamplesTheModelDistribution() {
        let h = histogram(logits, GenerationOptions(temperature: 1), n: 20000)
        for (i, p) in [0.5, 0.25, 0.15, 0.1].enumerated() {
            XCTAssertEqual(Double(h[i, default: 0]) / 20000, p, accuracy: 0.015)
        }
    }

    func testTopKTopPAndMinPTruncate() {
        XCTAssertEqual(Set(histogram(logits, GenerationOptions(temperature: 1, topK: 2)).keys), [0, 1])
        // top-p 0.7: 0.5 + 0.25 reaches it, so ids 0 and 1 survive.
        XCTAssertEqual(Set(histogram(logits, GenerationOptions(temperature: 1, topP: 0.7)).keys), [0, 1])
        XCTAssertEqual(Set(histogram(logits, GenerationOptions(temperature: 1, topP: 0.8)).keys), [0, 1, 2])
        // min-p 0.3: keep p ≥ 0.15.
        XCTAssertEqual(Set(histogram(logits, GenerationOptions(temperature: 1, minP: 0.3)).keys), [0, 1, 2])
        let h = histogram(logits, GenerationOptions(temperature: 1, topK: 2), n: 12000)
        XCTAssertEqual(Double(h[0]!) / 12000, 2.0 / 3.0, accuracy: 0.02, "renormalised over the kept tokens")
    }

    func testRepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        // Token 0 (logit 1.0, seen) is penalised to 0.5 < token 1's 0.8; token 2 (-1, seen) to -2.
        let l: [Float] = [1.0, 0.8, -1.0]
        var s = Sampler(parameters: GenerationOptions(temperature: 0, repetitionPenalty: 2))
        var rng = PhiloxRNG(seed: 0)
        let (id, lp) = l.withUnsafeBufferPointer { s.sample($0.baseAddress!, vocab: 3, seen: [0, 2, 0], rng: &rng) }
        XCTAssertEqual(id, 1)
        let z = Foundation.log(Foundation.exp(0.5) + Foundation.exp(0.8) + Foundation.exp(-2.0))
        XCTAssertEqual(Double(lp), 0.8 - z, accuracy: 1e-5)
    }

    func testInvalidParametersAreRejected() {
        XCTAssertThrowsError(try GenerationOptions(topP: 0).validate()) { XCTAssertTrue("\($0)".contains("top_p")) }
        XCTAssertThrowsError(try GenerationOptions(temperature: -1).validate()) { XCTAssertTrue("\($0)".contains("temperature")) }
        XCTAssertThrowsError(try GenerationOptions(stopStrings: [""]).validate()) {
            XCTAssertEqual("\($0)", "stop_strings must not contain an empty string")
        }
        XCTAssertThrowsError(try GenerationOptions(maxNewTokens: 4, minNewTokens: 5).validate()) {
            XCTAssertEqual("\($0)", "min_new_tokens must be in [0, max_new_tokens = 4], got 5")
        }
        XCTAssertThrowsError(try GenerationOptions(suppressTokenIds: [300]).validate(vocabSize: 256)) {
            XCTAssertEqual("\($0)", "suppress_tokens: token id 300 is outside the vocabulary 0..<256")
        }
    }

    func testSuppressedTokensAndStopTokensBeforeMinNewTokensGetNoMass() {
        // Suppressing id 0 (p 0.5) leaves 0.25, 0.15, 0.1 renormalised; greedy then picks id 1.
        var s = Sampler(parameters: GenerationOptions(temperature: 0, suppressTokenIds: [0]))
        var rng = PhiloxRNG(seed: 0)
        let (id, lp) = logits.withUnsafeBufferPointer { s.sample($0.baseAddress!, vocab: 4, seen: [], rng: &rng) }
        XCTAssertEqual(id, 1)
        XCTAssertEqual(Double(lp), Foundation.log(0.25 / 0.5), accuracy: 1e-5)
        // Stop token 0 is masked while fewer than 2 tokens were produced, free from then on.
        var m = Sampler(parameters: GenerationOptions(minNewTokens: 2, temperature: 0, stopTokenIds: [0]))
        XCTAssertEqual(logits.withUnsafeBufferPointer { m.sample($0.baseAddress!, vocab: 4, seen: [], produced: 1, rng: &rng).0 }, 1)
        XCTAssertEqual(logits.withUnsafeBufferPointer { m.sample($0.baseAddress!, vocab: 4, seen: [], produced: 2, rng: &rng).0 }, 0)
        let h = histogram(logits, GenerationOptions(temperature: 1, suppressTokenIds: [0, 3]), n: 12000)
        XCTAssertEqual(Set(h.keys), [1, 2])
        XCTAssertEqual(Double(h[1]!) / 12000, 0.25 / 0.4, accuracy: 0.02)
    }

    func testMinNewTokensDelaysStopTokensAndStopStrings() throws {
        let g = try tinyGenerator()
        let free = try g.generate(prompts: [[65, 66]], options: GenerationOptions(maxNewTokens: 10, temperature: 0))[0][0]
        // Stop on the first greedy token, but not before 4 tokens: the greedy path is unchanged
        // until the stop token is allowed, and the first later occurrence (if any) ends it.
        let stopID = free.tokenIDs[0]
        let delayed = try g.generate(prompts: [[65, 66]], options: GenerationOptions(maxNewTokens: 10, minNewTokens: 4, temperature: 0,
                                                                                      stopTokenIds: [stopID]))[0][0]
        XCTAssertGreaterThanOrEqual(delayed.tokenIDs.count, 4)
        XCTAssertFalse(delayed.tokenIDs.prefix(3).contains(stopID))
        XCTAssertEqual(delayed.finishReason, delayed.tokenIDs.last == stopID && delayed.tokenIDs.count < 10 ? .eos : .length)
        if let j = delayed.tokenIDs.dropFirst(3).firstIndex(of: stopID) { XCTAssertEqual(delayed.tokenIDs.count, j + 1) }
        // A stop string already in the first two tokens does not count before min_new_tokens = 3.
        let stop = g.tokenizer.decode([free.tokenIDs[0]])
        let early = try g.generate(prompts: [[65, 66]], options: GenerationOptions(maxNewTokens: 10, temperature: 0, stopStrings: [stop]))[0][0]
        XCTAssertEqual(early.finishReason, .stop)
        XCTAssertEqual(early.tokenIDs, [free.tokenIDs[0]])
        let late = try g.generate(prompts: [[65, 66]], options: GenerationOptions(maxNewTokens: 10, minNewTokens: 3, temperature: 0,
                                                                                  stopStrings: [stop]))[0][0]
        XCTAssertEqual(Array(late.tokenIDs.prefix(3)), Array(free.tokenIDs.prefix(3)))
        let tail = g.tokenizer.decode(Array(free.tokenIDs.dropFirst(3)))
        if tail.contains(stop) { XCTAssertEqual(late.finishReason, .stop) } else { XCTAssertEqual(late.finishReason, .length) }
    }

    func testNumReturnSequencesSamplesEachPromptInOneBatch() throws {
        let g = try tinyGenerator()
        let params = GenerationOptions(maxNewTokens: 6, temperature: 1, numReturnSequences: 3, seed: 7)
        let out = try g.generate(prompts: [[10, 20], [30]], options: params)
        XCTAssertEqual(out.map(\.count), [3, 3])
        // Row i·3 + j draws from stream (seed, i·3 + j): the same as that row in a flat batch.
        let flat = try g.generate(prompts: [[10, 20], [10, 20], [10, 20], [30], [30], [30]],
                                  options: GenerationOptions(maxNewTokens: 6, temperature: 1, seed: 7)).map { $0[0] }
        XCTAssertEqual(out.flatMap { $0 }, flat)
        XCTAssertNotEqual(out[0][0].tokenIDs, out[0][1].tokenIDs)
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

    func testContextLengthEndsRowsAndRefusesPromptsThatFillIt() throws {
        let config = ModelConfig(vocabSize: 256, hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 2, numAttentionHeads: 2,
                                 numKeyValueHeads: 1, maxPositionEmbeddings: 12, tieWordEmbeddings: true)
        let g = Generator(model: try LlamaModel(config: config, seed: 3, initStd: 0.5), tokenizer: try tinyGenerator().tokenizer)
        let options = GenerationOptions(maxNewTokens: 20, temperature: 1, seed: 42)
        // Each row stops where its own context is full: 12 − 3 and 12 − 8 new tokens.
        let out = try g.generate(prompts: [[10, 20, 30], [1, 2, 3, 4, 5, 6, 7, 8]], options: options).map { $0[0] }
        XCTAssertEqual(out.map(\.tokenIDs.count), [9, 4])
        XCTAssertEqual(out.map(\.finishReason), [.length, .length])
        XCTAssertThrowsError(try g.generate(prompts: [[1], Array(repeating: 5, count: 12)], options: options)) {
            XCTAssertEqual("\($0)", "prompt 1 has 12 tokens, leaving no room for a new one in the model's context of 12 " +
                           "(max_position_embeddings); shorten the prompt")
        }
    }

    func testSamplingIsReproducibleAndIndependentOfBatchMates() throws {
        let g = try tinyGenerator()
        let params = GenerationOptions(maxNewTokens: 12, temperature: 1, seed: 42)
        let a = try g.generate(prompts: [[10, 20, 30]], options: params).map { $0[0] }
        let b = try g.generate(prompts: [[10, 20, 30]], options: params).map { $0[0] }
        XCTAssertEqual(a, b)
        // The same prompt as row 0 of a batch with a longer neighbour draws the same tokens.
        let batch = try g.generate(prompts: [[10, 20, 30], [1, 2, 3, 4, 5, 6]], options: params).map { $0[0] }
        XCTAssertEqual(batch[0].tokenIDs, a[0].tokenIDs)
        let other = try g.generate(prompts: [[10, 20, 30]], options: GenerationOptions(maxNewTokens: 12, temperature: 1, seed: 43)).map { $0[0] }
        XCTAssertNotEqual(other[0].tokenIDs, a[0].tokenIDs)
        XCTAssertEqual(a[0].tokenLogprobs.count, 12)
        XCTAssertTrue(a[0].tokenLogprobs.allSatisfy { $0 <= 0 && $0.isFinite })
    }

    func testStopTokensAndStopStringsEndSequencesIndependently() throws {
        let g = try tinyGenerator()
        let free = try g.generate(prompts: [[65, 66], [67]], options: GenerationOptions(maxNewTokens: 10, temperature: 0)).map { $0[0] }
        // Stop on the third greedy token of row 0: row 0 ends there, row 1 runs on unchanged.
        let stopID = free[0].tokenIDs[2]
        let stopped = try g.generate(prompts: [[65, 66], [67]], options: GenerationOptions(maxNewTokens: 10, temperature: 0, stopTokenIds: [stopID])).map { $0[0] }
        let firstStop = free[0].tokenIDs.firstIndex(of: stopID)!
        XCTAssertEqual(stopped[0].tokenIDs, Array(free[0].tokenIDs[...firstStop]))
        XCTAssertEqual(stopped[0].finishReason, .eos)
        if let j = free[1].tokenIDs.firstIndex(of: stopID) {
            XCTAssertEqual(stopped[1].tokenIDs, Array(free[1].tokenIDs[...j]))
        } else {
            XCTAssertEqual(stopped[1].tokenIDs, free[1].tokenIDs)
            XCTAssertEqual(stopped[1].finishReason, .length)
        }
        // A stop string made of the 2nd and 3rd generated bytes cuts the text before it.
        let text = g.tokenizer.decode(free[0].tokenIDs)
        let stop = g.tokenizer.decode(free[0].tokenIDs[1...2])
        let cut = try g.generate(prompts: [[65, 66]], options: GenerationOptions(maxNewTokens: 10, temperature: 0, stopStrings: [stop]))[0][0]
        XCTAssertEqual(cut.finishReason, .stop)
        XCTAssertEqual(cut.text, String(text[..<text.range(of: stop)!.lowerBound]))
    }
}
