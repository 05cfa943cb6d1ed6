import Foundation
import TemperCore
import XCTest

/// A bigram language model for preference-loss tests: the logits at a position are the row of
/// `table` for that position's token, so every sequence log-probability can be worked out by hand
/// (`logProb`), and the model is differentiable in `table` for gradient checks. Its hidden states
/// are its logits (an identity LM head), so a score head reads them too.
final class BigramModel: TrainableLanguageModel {
    /// `[vocab, vocab]`: row a holds the logits of the token after a.
    let table: Tensor

    init(_ table: Tensor) { self.table = table }

    convenience init(vocab: Int, seed: UInt64) {
        var rng = PhiloxRNG(seed: seed)
        self.init(Tensor.randn([vocab, vocab], std: 1, rng: &rng, requiresGrad: true))
    }

    func logits(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor { Tensor.embedding(ids: inputIDs, weight: table) }
    func hiddenStates(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor { try logits(inputIDs: inputIDs, attentionMask: attentionMask) }
    func logits(hiddenStates: Tensor) -> Tensor { hiddenStates }

    /// Σ over positions t ≥ `from` of log p(ids[t] | ids[t − 1]), in Double, straight from the table.
    func logProb(_ ids: [Int32], from: Int) -> Double {
        let v = table.shape[0], w = table.scalars.map(Double.init)
        var total = 0.0
        for t in max(1, from)..<ids.count {
            let row = Array(w[(Int(ids[t - 1]) * v)..<(Int(ids[t - 1]) * v + v)])
            let m = row.max()!
            total += row[Int(ids[t])] - (m + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - m) }))
        }
        return total
    }
}

/// A preference pair with prompt tokens shared by both sides.
func pairExample(prompt: [Int32], chosen: [Int32], rejected: [Int32], margin: Float? = nil) -> TokenizedExample {
    var e = TokenizedExample(ids: prompt + chosen, lossMask: (prompt + chosen).indices.map { $0 >= prompt.count })
    e.rejected = TokenizedSequence(ids: prompt + rejected, lossMask: (prompt + rejected).indices.map { $0 >= prompt.count })
    e.promptLength = prompt.count
    e.margin = margin
    return e
}

/// Three pairs over a vocabulary of 5, of different lengths (so padding and length normalisation matter).
let handPairs: [(prompt: [Int32], chosen: [Int32], rejected: [Int32])] = [
    ([0, 1], [2, 3], [3]),
    ([1], [2], [0, 2, 4]),
    ([4, 0, 2], [1, 1, 3], [3, 4]),
]

func logSigmoid(_ x: Double) -> Double { x >= 0 ? -Foundation.log(1 + Foundation.exp(-x)) : x - Foundation.log(1 + Foundation.exp(x)) }
func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }
