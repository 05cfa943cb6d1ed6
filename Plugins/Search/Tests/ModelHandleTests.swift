import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The host the strategies run on, over a real model: the 2-layer Llama of fixtures/tiny-llama-hf
/// (SmolLM2's tokenizer, random weights).
final class ModelHandleTests: XCTestCase {
    static let model = Result { try PretrainedModel.load(from: TemperRepository.fixtures.appendingPathComponent("tiny-llama-hf")) }

    func pretrained() throws -> PretrainedModel { try Self.model.get() }

    /// `n` token ids that are ordinary words of the vocabulary, deterministic.
    func ids(_ n: Int, from start: Int32 = 1000) -> [Int32] { (0..<Int32(n)).map { start + ($0 * 37) % 5000 } }

    func testSessionDecodeEqualsPlainGenerateForTheSameSeed() throws {
        let pm = try pretrained()
        let prompts = [ids(5), ids(23, from: 3000)]
        let options = GenerationOptions(maxNewTokens: 12, temperature: 1, seed: 5)
        let plain = try withNoGrad { try pm.generator.generate(prompts: prompts, options: options) }.map { $0[0] }
        let session = try SharedPrefixSession(model: pm.model, tokenizer: pm.tokenizer, prompts: prompts)
        let stepped = try session.decode([0, 1], options: options)
        XCTAssertEqual(stepped.map(\.tokenIDs), plain.map(\.tokenIDs))
        for (a, b) in zip(stepped, plain) { assertClose(a.tokenLogprobs, b.tokenLogprobs, tol: 1e-4) }
        XCTAssertEqual(try session.tokens(of: 1), prompts[1] + plain[1].tokenIDs)
    }

    func testAForkSharesTheParentsBlocksAndCopiesOnlyThePartialOne() throws {
        let pm = try pretrained()
        let session = try SharedPrefixSession(model: pm.model, tokenizer: pm.tokenizer, prompts: [ids(40)], blockSize: 16)
        // 39 positions cached (the last token is fed with the next pass): blocks of 16, 16 and 7.
        XCTAssertEqual(session.pool.blocksInUse, 3)
        XCTAssertEqual(session.positionsComputed, 39)
        let children = try session.fork([0], copies: 4)[0]
        XCTAssertEqual(session.pool.blocksInUse, 3, "forking copies no position")
        XCTAssertEqual(session.positionsComputed, 39)
        _ = try session.decode(children, options: GenerationOptions(maxNewTokens: 1, temperature: 0))
        // Each child wrote position 39 into the shared third block, so each copied that block
        // (7 positions); the two full blocks stay shared by all five rows.
        XCTAssertEqual(session.pool.copies, 4)
        XCTAssertEqual(session.pool.blocksInUse, 7)
        XCTAssertEqual(session.positionsComputed, 43)
        session.release([0] + children)
        XCTAssertEqual(session.pool.blocksInUse, 0)
    }

    func testForkedChildrenContinueExactlyAsAFreshSessionWithTheSamePrefix() throws {
        let pm = try pretrained()
        let prompt = ids(21), a = ids(5, from: 2000), b = ids(19, from: 4000)
        let session = try SharedPrefixSession(model: pm.model, tokenizer: pm.tokenizer, prompts: [prompt], blockSize: 8)
        let kids = try session.fork([0], copies: 2)[0]
        try session.append([a, b], to: kids)
        let forked = try session.nextTokenLogits(kids)
        let fresh = try SharedPrefixSession(model: pm.model, tokenizer: pm.tokenizer, prompts: [prompt + a, prompt + b], blockSize: 8)
        let direct = try fresh.nextTokenLogits([0, 1])
        for (x, y) in zip(forked, direct) { XCTAssertLessThan(maxDifference(x, y), 1e-5) }
        // And as the model's own forward pass over the whole context.
        let whole = try withNoGrad { try pm.model.forward(Tensor(shape: [1, prompt.count + b.count], int32: prompt + b), positions: .last) }
        XCTAssertLessThan(maxDifference(forked[1], whole.scalars), 1e-4)
    }

    func testPrefixSharingFeedsFarFewerPositionsForTheSameBeams() throws {
        let pm = try pretrained()
        func run(_ share: Bool) throws -> PrefixSharingProbe.Outcome {
            try PrefixSharingProbe.run(model: pm.model, tokenizer: pm.tokenizer, prompt: ids(32), beams: 4, expansions: 2,
                                       steps: 8, stepTokens: 8, seed: 11, sharesPrefixes: share)
        }
        let shared = try run(true), copied = try run(false)
        XCTAssertEqual(shared.beams, copied.beams)
        // Shared: the prompt once (31), then each of the 8 children of every step feeds 8 positions
        // (its pending token and 7 sampled ones). Without sharing, a child at step s first re-feeds
        // its whole context of 32 + 8s tokens but the last, then the same 8.
        XCTAssertEqual(shared.positionsComputed, 31 + 8 * 8 * 8)
        XCTAssertEqual(copied.positionsComputed, 31 + (0..<8).map { 8 * (32 + 8 * $0 - 1 + 8) }.reduce(0, +))
        print("prefix sharing (tiny model, beam N=4 × 2, 8 steps of 8 tokens): \(shared.positionsComputed) positions fed with sharing, " +
              "\(copied.positionsComputed) without")
    }

    func testSessionErrorsNameTheRowAndTheLimit() throws {
        let pm = try pretrained()
        let session = try SharedPrefixSession(model: pm.model, tokenizer: pm.tokenizer, prompts: [ids(250)])
        XCTAssertThrowsError(try session.decode([0], options: GenerationOptions(maxNewTokens: 10, temperature: 0))) {
            XCTAssertEqual("\($0)", "decoding session: row 0 holds 257 tokens, more than the model's context of 256 (max_position_embeddings)")
        }
        XCTAssertThrowsError(try session.fork([3], copies: 1)) { XCTAssertEqual("\($0)", "decoding session: no row 3 (live rows: 0)") }
        XCTAssertThrowsError(try session.append([[60000]], to: [0])) {
            XCTAssertEqual("\($0)", "decoding session: token id 60000 for row 0 is outside the vocabulary 0..<49152")
        }
        XCTAssertThrowsError(try SharedPrefixSession(model: pm.model, tokenizer: pm.tokenizer, prompts: [[]])) {
            XCTAssertEqual("\($0)", "decoding session: prompt 0 is empty: a row needs at least one token")
        }
    }

    func testATreeThatOutgrowsTheContextStopsNamingTheSearchThePromptAndTheLimit() throws {
        TestPlugins.loadBuilt(requiring: ["beam"])
        let handle = PretrainedModelHandle(try pretrained())
        let beam = try ComponentRegistry.shared.search("beam:beams=2,expansions=2,max_steps=4,step_tokens=4")
        func failure(_ prompt: String) -> String? {
            let request = SearchRequest(model: handle, prompts: ["2 + 2 =", prompt], stepScorer: TableStepScorer([:]),
                                        generation: GenerationOptions(maxNewTokens: 16, temperature: 1, seed: 1))
            do { _ = try beam.search(request); return nil } catch { return "\(error)" }
        }
        // A prompt longer than the context of 256 fails as its session starts.
        let long = try handle.detokenize(ids(250))
        XCTAssertEqual(try handle.tokenize(long).count, 260)
        XCTAssertEqual(failure(long), "beam: prompt 1: decoding session: row 0 holds 260 tokens, more than the model's context of 256 (max_position_embeddings)")
        // One 2 tokens short of it fails when the first step of 4 tokens passes it.
        var words = ids(250)
        while try handle.tokenize(handle.detokenize(words)).count > 254 { words.removeLast() }
        let near = try handle.detokenize(words)
        XCTAssertEqual(try handle.tokenize(near).count, 254)
        XCTAssertEqual(failure(near), "beam: prompt 1: decoding session: row 1 holds 257 tokens, more than the model's context of 256 (max_position_embeddings)")
    }

    func testHandleLogprobsAreBatchedAndEqualTheModelsLogSoftmax() throws {
        let pm = try pretrained()
        let handle = PretrainedModelHandle(pm)
        handle.logprobBatchSize = 2
        let pairs = [LogprobRequest(prompt: ids(3), continuation: ids(4, from: 200)),
                     LogprobRequest(prompt: ids(9), continuation: ids(1, from: 300)),
                     LogprobRequest(prompt: ids(1), continuation: ids(6, from: 400))]
        let batched = try handle.logprobs(pairs)
        XCTAssertEqual(handle.usage, ComputeUsage(tokensScored: 7 + 10 + 7, forwardPasses: 2))
        for (pair, got) in zip(pairs, batched) {
            let seq = pair.prompt + pair.continuation
            let logits = try withNoGrad { try pm.model.forward(Tensor(shape: [1, seq.count], int32: seq)) }.scalars
            let v = pm.model.config.vocabSize
            let expected = pair.continuation.enumerated().map { t, token -> Float in
                let row = Array(logits[(pair.prompt.count - 1 + t) * v..<(pair.prompt.count + t) * v])
                let m = row.max()!
                return Float(Double(row[Int(token)] - m) - Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) }))
            }
            assertClose(got, expected, tol: 1e-4)
        }
        XCTAssertThrowsError(try handle.logprobs([LogprobRequest(prompt: [], continuation: [5])])) {
            XCTAssertEqual("\($0)", "logprobs: pair 0 has an empty prompt: at least one token must condition the first")
        }
    }

    func testBeamSearchRunsOnTheModelWithItsOwnSelfEvaluation() throws {
        TestPlugins.loadBuilt(requiring: ["beam"])
        let pretrainedHandle = PretrainedModelHandle(try pretrained())
        let handle = CountingHandle(pretrainedHandle, logprobBatchSize: pretrainedHandle.logprobBatchSize)
        // Steps end at a space (most of this random model's tokens start with one), so three steps
        // of up to 4 tokens could reach 12; max_new_tokens = 5 caps each solution's total.
        let beam = try ComponentRegistry.shared.search("beam:beams=2,expansions=2,max_steps=3,step_tokens=4")
        let request = SearchRequest(model: handle, prompts: ["The answer is", "Two plus two"],
                                    stepScorer: SelfEvaluationStepScorer(model: handle, segmentation: .separator(" ")),
                                    generation: GenerationOptions(maxNewTokens: 5, temperature: 1, seed: 1))
        let result = try beam.search(request)
        XCTAssertEqual(result.candidates.map(\.count), [2, 2])
        for c in result.candidates.flatMap({ $0 }) {
            // p(Yes) / (p(Yes) + p(No)) of the last step.
            XCTAssertTrue((0...1).contains(c.score ?? -1), "\(c.score as Any)")
            XCTAssertEqual(c.sequence.tokenLogprobs.count, c.sequence.tokenIDs.count)
            XCTAssertLessThanOrEqual(c.sequence.tokenIDs.count, 5)
        }
        // The search reports what the handle charged, and that is what the calls it made cost,
        // counted outside the handle's accounting.
        XCTAssertEqual(result.usage, pretrainedHandle.usage)
        XCTAssertEqual(result.usage, handle.counted)
        XCTAssertGreaterThan(result.usage.tokensGenerated, 0)
    }

    func testHandleLoadsAPEFTAdapterOntoTheModel() throws {
        TestPlugins.loadBuilt(requiring: ["lora"])
        let folder = TemperRepository.fixtures.appendingPathComponent("tiny-llama-hf")
        let adapted = try PretrainedModelHandle.load(model: folder, adapter: folder.appendingPathComponent("peft-lora"))
        XCTAssertEqual(adapted.adapter?.method, "lora")
        let base = PretrainedModelHandle(try PretrainedModel.load(from: folder))
        let pair = LogprobRequest(prompt: ids(5), continuation: ids(3, from: 100))
        // The fixture's B matrices are N(0, 0.2²): the adapter moves every log-probability.
        XCTAssertGreaterThan(maxDifference(try adapted.logprobs([pair])[0], try base.logprobs([pair])[0]), 1e-3)
    }

    func testHandleGenerateIsOneBatchedDecodeAndSessionsChargeItsUsage() throws {
        let pm = try pretrained()
        let handle = PretrainedModelHandle(pm)
        let options = GenerationOptions(maxNewTokens: 6, temperature: 1, numReturnSequences: 3, seed: 2)
        let out = try handle.generate(prompts: [ids(4)], options: options)
        var withStops = options
        withStops.stopTokenIds = pm.stopTokenIds
        XCTAssertEqual(out, try withNoGrad { try pm.generator.generate(prompts: [ids(4)], options: withStops) })
        let produced = out[0].map(\.tokenIDs.count)
        XCTAssertEqual(handle.usage, ComputeUsage(tokensGenerated: produced.reduce(0, +), tokensScored: 4, forwardPasses: produced.max()!))
        XCTAssertEqual(try handle.renderChat([ChatMessage(role: "user", content: "hi")]),
                       try pm.tokenizer.applyChatTemplate([ChatMessage(role: "user", content: "hi")]))

        let before = handle.usage
        let session = try handle.startSession(prompts: [ids(10)])
        let kids = try session.fork([0], copies: 2)[0]
        try session.append([[500, 501], [502]], to: kids)
        let steps = try session.decode(kids, options: GenerationOptions(maxNewTokens: 3, temperature: 0))
        let spent = handle.usage - before
        XCTAssertEqual(spent.tokensScored, 10 + 3)
        XCTAssertEqual(spent.tokensGenerated, steps.map(\.tokenIDs.count).reduce(0, +))
        // Prefill; the append's settling passes, one per length fed (2 and 1 tokens); one pass per decode step.
        XCTAssertEqual(spent.forwardPasses, 3 + steps.map(\.tokenIDs.count).max()!)
    }

    func testGeneratingNoTokensChargesNothing() throws {
        let handle = PretrainedModelHandle(try pretrained())
        let out = try handle.generate(prompts: [ids(4), ids(7)], options: GenerationOptions(maxNewTokens: 0, numReturnSequences: 2))
        XCTAssertEqual(out.map { $0.map(\.tokenIDs) }, [[[], []], [[], []]])
        XCTAssertEqual(out.flatMap { $0 }.map(\.finishReason), [.length, .length, .length, .length])
        // The generator returns before its prefill: no pass ran, no token was scored.
        XCTAssertEqual(handle.usage, ComputeUsage())
    }
}
