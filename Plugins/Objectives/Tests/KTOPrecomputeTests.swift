import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// `kto` with `precompute_ref_log_probs`: the mismatched (KL) rows fixed before training as TRL's
/// KTOTrainer fixes them, the cached reference log-probabilities giving the live reference's loss,
/// and a run that writes the cache, resumes from it without a reference model and ends
/// bit-identical to an uninterrupted one.
final class KTOPrecomputeTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["kto", "adamw"]) }

    /// Unpaired rows: (prompt, completion, desirable).
    private let rows: [(prompt: [Int32], completion: [Int32], label: Bool)] = [
        ([0, 1], [2, 3], true), ([1], [4], false), ([3, 3], [0, 1, 2], true), ([2], [1, 1], false), ([4, 0], [3], true),
    ]

    private var examples: [TokenizedExample] {
        rows.map { r in
            var e = TokenizedExample(ids: r.prompt + r.completion, lossMask: (r.prompt + r.completion).indices.map { $0 >= r.prompt.count })
            e.promptLength = r.prompt.count
            e.label = r.label
            return e
        }
    }

    func testMismatchedRowsAreFixedWithinChunksOfTheBatchSize() throws {
        let fixed = ReferenceLogProbCache.fixingMismatchedRows(examples, batchSize: 2)
        // Chunks {0, 1}, {2, 3}, {4}: row k takes row k − 1's completion within its chunk,
        // cyclically; the last chunk of one row borrows from the row before it.
        let partners = [1, 0, 3, 2, 3]
        for (i, p) in partners.enumerated() {
            let m = try XCTUnwrap(fixed[i].mismatched)
            XCTAssertEqual(m.ids, Array((rows[i].prompt + rows[p].completion).prefix(max(rows[i].prompt.count + rows[i].completion.count,
                                                                                            rows[p].prompt.count + rows[p].completion.count))), "row \(i)")
            XCTAssertEqual(m.lossMask, m.ids.indices.map { $0 >= rows[i].prompt.count }, "row \(i)")
        }
        // Row 1: prompt [1] + row 0's completion [2, 3]; as long as row 0 (4 tokens), so all kept.
        XCTAssertEqual(fixed[1].mismatched?.ids, [1, 2, 3])
        // The collator then uses the fixed rows, whatever batch the rows are drawn into.
        let batch = BatchCollator.collate([fixed[4], fixed[1]], padID: 0)
        XCTAssertEqual(Array(batch.extra[BatchKeys.klInputIDs]!.int32Values[0..<3]), [4, 0, 1])
        XCTAssertEqual(Array(batch.extra[BatchKeys.klInputIDs]!.int32Values[3..<6]), [1, 2, 3])
    }

    func testCachedReferenceLogProbsGiveTheLiveReferencesLoss() throws {
        let policy = BigramModel(vocab: 5, seed: 11), reference = BigramModel(vocab: 5, seed: 12)
        let fixed = Array(ReferenceLogProbCache.fixingMismatchedRows(examples, batchSize: 5)[0..<3])
        var cached = fixed
        for i in cached.indices {
            let m = try XCTUnwrap(cached[i].mismatched)
            cached[i].referenceLogProbs = [Float(reference.logProb(cached[i].ids, from: rows[i].prompt.count)),
                                           Float(reference.logProb(m.ids, from: rows[i].prompt.count))]
        }
        let cachedBatch = BatchCollator.collate(cached, padID: 0)
        assertClose(try XCTUnwrap(cachedBatch.extra[BatchKeys.klReferenceLogProbs]).scalars, cached.map { $0.referenceLogProbs![1] }, tol: 0)
        let kto = try ComponentRegistry.shared.objective("kto:beta=0.4,desirable_weight=1.5,undesirable_weight=0.7")
        let withCache = try kto.loss(.batch(cachedBatch), context: ObjectiveContext(policy: policy))
        let live = try kto.loss(.batch(BatchCollator.collate(fixed, padID: 0)), context: ObjectiveContext(policy: policy, reference: reference))
        // By hand: z₀ over the fixed KL rows (row k + completion of row k − 1 in the chunk of all 5 rows).
        let partners = [4, 0, 1]
        let kl = (0..<3).map { i -> Double in
            let ids = rows[i].prompt + rows[partners[i]].completion
            return policy.logProb(ids, from: rows[i].prompt.count) - reference.logProb(ids, from: rows[i].prompt.count)
        }
        let z0 = max(0, kl.reduce(0, +) / 3)
        let expected = (0..<3).map { i -> Double in
            let ids = rows[i].prompt + rows[i].completion
            let ratio = policy.logProb(ids, from: rows[i].prompt.count) - reference.logProb(ids, from: rows[i].prompt.count)
            return rows[i].label ? 1.5 * (1 - sigmoid(0.4 * (ratio - z0))) : 0.7 * (1 - sigmoid(0.4 * (z0 - ratio)))
        }.reduce(0, +) / 3
        XCTAssertEqual(Double(withCache.loss.item), expected, accuracy: 1e-5)
        XCTAssertEqual(Double(live.loss.item), expected, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(withCache.metrics["kl"]), z0, accuracy: 1e-5)
        // Without the cache and without a reference model, the error names what is missing.
        XCTAssertEqual(errorMessage { _ = try kto.loss(.batch(BatchCollator.collate(fixed, padID: 0)), context: ObjectiveContext(policy: policy)) },
                       "kto: needs a reference model (the trainer sets one when the objective asks), but none was given")
    }

    private func session(_ dir: URL, reporter: ProgressReporter? = nil) throws -> TrainingSession {
        let tokenizer = try CharacterChatTokenizer.make()
        let url = dir.appendingPathComponent("rows.jsonl")
        let lines = (0..<10).map { i in #"{"prompt": "\#(i)+\#(i + 3)=", "completion": "\#(i % 3 == 0 ? 2 * i + 3 : 2 * i + 4)", "label": \#(i % 3 == 0)}"# }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        var recipe = TrainingRecipe()
        let base: [(String, String)] = [
            ("train_file", url.path), ("output_dir", dir.appendingPathComponent("run").path), ("objective", "kto:beta=0.1"),
            ("optimizer", "adamw"), ("learning_rate", "0.01"), ("lr_scheduler_type", "constant"), ("max_steps", "4"),
            ("per_device_train_batch_size", "4"), ("logging_steps", "1"), ("save_steps", "2"), ("seed", "3"),
            ("precompute_ref_log_probs", "true"),
        ]
        for (k, v) in base { try recipe.set(k, .text(v)) }
        let model = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 11)
        return try TrainingSession(recipe: recipe, pretrained: PretrainedModel(model: model, tokenizer: tokenizer, source: dir), reporter: reporter)
    }

    private func weights(_ s: TrainingSession) -> [String: [UInt32]] {
        var out: [String: [UInt32]] = [:]
        for g in s.trainer.groups { for p in g.parameters { out[p.name] = p.tensor.scalars.map(\.bitPattern) } }
        return out
    }

    func testARunComputesTheCacheOnceAndResumesFromItBitIdentical() throws {
        let whole = try session(try makeTemporaryFolder("kto-whole"))
        XCTAssertNil(whole.trainer.reference, "no reference model once the log-probabilities are cached")
        try whole.trainer.train()

        let dir = try makeTemporaryFolder("kto-resumed")
        var messages: [String] = []
        let reporter = ProgressReporter(interactive: false) { messages.append($0) }
        let first = try session(dir, reporter: reporter)
        let rows = dir.appendingPathComponent("rows.jsonl").path
        let cache = ReferenceLogProbCache.file("train", in: dir.appendingPathComponent("run"))
        let saved = try SafetensorsFile(contentsOf: cache).tensor(named: "ref_logps")
        XCTAssertEqual(saved.shape, [10, 2])
        XCTAssertTrue(saved.scalars.allSatisfy { $0 < 0 && $0.isFinite }, "log-probabilities of completion and KL rows: \(saved.scalars)")
        XCTAssertEqual(messages, ["reference log-probabilities of 10 rows of \(rows) written to \(cache.path)\n"])
        try first.trainer.train(stopAfter: 2)
        messages = []
        let second = try session(dir, reporter: reporter)
        XCTAssertEqual(messages, ["reference log-probabilities of \(rows) read from \(cache.path)\n"], "the resumed run computes nothing")
        try second.trainer.train(resumeFrom: dir.appendingPathComponent("run/checkpoint-2"))
        XCTAssertEqual(try SafetensorsFile(contentsOf: cache).tensor(named: "ref_logps").scalars.map(\.bitPattern), saved.scalars.map(\.bitPattern))
        XCTAssertTrue(messages.contains { $0.hasPrefix("resumed from \(dir.path)/run/checkpoint-2 at step 2/4") }, "\(messages)")
        XCTAssertEqual(weights(whole), weights(second))

        // Data that no longer matches the cache is refused, not silently used.
        let url = dir.appendingPathComponent("rows.jsonl")
        try Data(#"{"prompt": "1+1=", "completion": "2", "label": true}"#.appending("\n").utf8).write(to: url, options: .atomic)
        var changed = TrainingRecipe()
        for (k, v) in [("train_file", url.path), ("output_dir", dir.appendingPathComponent("run").path), ("objective", "kto"),
                       ("optimizer", "adamw"), ("precompute_ref_log_probs", "true")] { try changed.set(k, .text(v)) }
        let tokenizer = try CharacterChatTokenizer.make()
        let model = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 11)
        XCTAssertEqual(errorMessage { _ = try TrainingSession(recipe: changed, pretrained: PretrainedModel(model: model, tokenizer: tokenizer, source: dir)) },
                       "precompute_ref_log_probs: \(cache.path) holds reference log-probabilities of other data; remove it or choose another output_dir")
    }
}
