import Foundation
import TemperCore
import TemperTestSupport

/// Small rollout batches whose log-probabilities are worked out independently of the plugin: a
/// `FixedLogitsModel` over a 3-token vocabulary, and the log-softmax recomputed here in Double.
struct RolloutFixture {
    /// Rows × positions × vocabulary.
    let rows: Int, length: Int, vocab: Int
    /// The fixed logits (requires grad), `[rows, length, vocab]`.
    let logits: Tensor
    /// Token ids, `[rows, length]`.
    let ids: [Int32]
    /// 1 on completion tokens, `[rows, length]`.
    let mask: [Float]

    /// Logits drawn from a seed (values in about ±2), ids cycling through the vocabulary, and the
    /// first `promptLength` tokens of every row a prompt, the next `completionLengths[row]` its
    /// completion, the rest padding. `ids` replaces the cycling ids.
    init(completionLengths: [Int], promptLength: Int = 1, length: Int = 4, vocab: Int = 3, seed: UInt64 = 1, ids: [Int32]? = nil) {
        rows = completionLengths.count
        self.length = length
        self.vocab = vocab
        var rng = PhiloxRNG(seed: seed)
        logits = Tensor.uniform([rows, length, vocab], low: -2, high: 2, rng: &rng, requiresGrad: true)
        self.ids = ids ?? (0..<(rows * length)).map { Int32(($0 * 7 + $0 / length) % vocab) }
        mask = (0..<rows).flatMap { r in (0..<length).map { c in c >= promptLength && c < promptLength + completionLengths[r] ? 1 : 0 } }
    }

    /// The model that returns the logits.
    var model: FixedLogitsModel { FixedLogitsModel(logits) }

    /// log softmax(logits[r, c − 1])[ids[r, c]], for c ≥ 1.
    func logprob(_ r: Int, _ c: Int) -> Double {
        let row = logits.scalars[((r * length + c - 1) * vocab)..<((r * length + c) * vocab)].map(Double.init)
        let m = row.max()!
        let lse = m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) })
        return row[Int(ids[r * length + c])] - lse
    }

    /// Whether token c of row r is a completion token.
    func isCompletion(_ r: Int, _ c: Int) -> Bool { mask[r * length + c] != 0 }

    /// Completion positions of row r.
    func completion(_ r: Int) -> [Int] { (0..<length).filter { isCompletion(r, $0) } }

    /// A `[rows, length]` tensor from a function of (row, column), zero outside the completion.
    func perToken(_ f: (Int, Int) -> Double) -> Tensor {
        Tensor(shape: [rows, length], scalars: (0..<rows).flatMap { r in (0..<length).map { c in isCompletion(r, c) ? Float(f(r, c)) : 0 } })
    }

    /// A rollout batch of these tokens.
    func batch(groups: [Int], rewards: [Float], old: Tensor? = nil, reference: Tensor? = nil,
               truncated: [Bool] = [], baseline: [Float]? = nil) -> RolloutBatch {
        RolloutBatch(inputIDs: Tensor(shape: [rows, length], int32: ids), completionMask: Tensor(shape: [rows, length], scalars: mask),
                     groupIndex: groups, rewards: rewards, baselineRewards: baseline, oldLogprobs: old, referenceLogprobs: reference,
                     truncated: truncated)
    }
}

/// Runs `prepare` then `loss`, as the host does on the first micro-batch of a rollout batch.
func preparedLoss(_ objective: any Objective, _ batch: RolloutBatch, model: any TrainableLanguageModel,
                  reference: (any TrainableLanguageModel)? = nil) throws -> (ObjectiveOutput, RolloutBatch) {
    var b = batch
    let context = ObjectiveContext(policy: model, reference: reference)
    try objective.prepare(&b, context: context)
    return (try objective.loss(.rollouts(b), context: context), b)
}

/// The message of the error `body` throws, or nil.
func errorMessage(_ body: () throws -> Void) -> String? {
    do { try body(); return nil } catch { return "\(error)" }
}
