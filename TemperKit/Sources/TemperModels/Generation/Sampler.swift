import Foundation
import TemperTensor

/// Turns one row of logits into a token: repetition penalty, suppressed tokens (`suppress_tokens`,
/// and the stop tokens before `min_new_tokens`), temperature, top-k, top-p, min-p, then a draw (or
/// argmax when greedy), in Hugging Face's order (logits processors before warpers).
struct Sampler {
    let parameters: GenerationOptions
    /// Scratch, reused across steps so sampling allocates nothing per token.
    private var scores: [Float] = []
    private var order: [Int32] = []

    init(parameters: GenerationOptions) { self.parameters = parameters }

    /// Picks a token from `logits` (`vocab` floats); `seen` is the prompt and output so far (for the
    /// repetition penalty) and `produced` how many tokens this sequence has generated (stop tokens
    /// are suppressed while it is below `minNewTokens`). Returns the token and its log-probability
    /// under the model's softmax at the sampling temperature (1 when greedy) after suppression,
    /// before truncation — the quantity RL objectives compare against a training forward pass.
    mutating func sample(_ logits: UnsafePointer<Float>, vocab: Int, seen: [Int32], produced: Int = 0,
                         rng: inout PhiloxRNG) -> (Int32, Float) {
        let p = parameters
        if scores.count != vocab { scores = [Float](repeating: 0, count: vocab) }
        scores.withUnsafeMutableBufferPointer { s in
            s.baseAddress!.update(from: logits, count: vocab)
            if p.repetitionPenalty != 1 {
                for id in Set(seen) {
                    let v = s[Int(id)]
                    s[Int(id)] = v > 0 ? v / p.repetitionPenalty : v * p.repetitionPenalty
                }
            }
            for id in p.suppressTokenIds where Int(id) < vocab { s[Int(id)] = -.infinity }
            if produced < p.minNewTokens {
                for id in p.stopTokenIds where Int(id) < vocab { s[Int(id)] = -.infinity }
            }
            let invT: Float = p.temperature > 0 ? 1 / p.temperature : 1
            var maxV = -Float.infinity
            for i in 0..<vocab { s[i] *= invT; maxV = max(maxV, s[i]) }
            var sum: Double = 0
            for i in 0..<vocab { sum += Double(Foundation.exp(s[i] - maxV)) }
            let logZ = maxV + Float(Foundation.log(sum))
            for i in 0..<vocab { s[i] -= logZ }   // now log-probabilities
        }
        if p.temperature == 0 {
            var best = 0
            for i in 1..<vocab where scores[i] > scores[best] { best = i }
            return (Int32(best), scores[best])
        }
        return drawTruncated(vocab: vocab, rng: &rng)
    }

    /// Samples among the tokens that survive top-k, top-p and min-p, renormalised.
    private mutating func drawTruncated(vocab: Int, rng: inout PhiloxRNG) -> (Int32, Float) {
        let p = parameters
        var keep = vocab
        let needsOrder = p.topK > 0 || p.topP < 1
        if needsOrder {
            if order.count != vocab { order = (0..<Int32(vocab)).map { $0 } }
            else { for i in 0..<vocab { order[i] = Int32(i) } }
            let limit = p.topK > 0 && p.topK < vocab ? p.topK : vocab
            keep = limit
            scores.withUnsafeBufferPointer { sb in
                let s = sb.baseAddress!
                order.withUnsafeMutableBufferPointer { o in
                    // Only as many of the best tokens as top-p's mass needs are ever sorted: a sorted
                    // prefix is grown until it holds the mass (a full sort of the vocabulary per token
                    // would cost more than the model's forward at small batch).
                    var n = p.topP < 1 ? min(limit, 64) : limit
                    while true {
                        Sampler.selectTop(o, count: n, by: s)
                        o[0..<n].sort { Sampler.ranksBefore($0, $1, s) }
                        if p.topP < 1 {
                            var mass: Float = 0
                            for i in 0..<n {
                                mass += Foundation.exp(s[Int(o[i])])
                                if mass >= p.topP { keep = i + 1; return }
                            }
                        }
                        if n == limit { return }
                        n = min(limit, n * 4)
                    }
                }
            }
        }
        let candidates: [Int32] = needsOrder ? Array(order[0..<keep]) : (0..<Int32(vocab)).map { $0 }
        var best = -Float.infinity
        for c in candidates { best = max(best, scores[Int(c)]) }
        let floor = p.minP > 0 ? best + Foundation.log(p.minP) : -Float.infinity
        var weights = [Float](), ids = [Int32]()
        weights.reserveCapacity(candidates.count)
        ids.reserveCapacity(candidates.count)
        var total: Float = 0
        for c in candidates where scores[Int(c)] >= floor {
            let w = Foundation.exp(scores[Int(c)] - best)
            weights.append(w); ids.append(c); total += w
        }
        var u = rng.nextUniform() * total
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return (ids[i], scores[Int(ids[i])]) }
        }
        let last = ids[ids.count - 1]
        return (last, scores[Int(last)])
    }

    /// The order tokens are ranked in: higher score first, ties by lower id (what a stable sort of
    /// the ids by descending score gives), so any partial selection agrees with a full sort.
    @inline(__always)
    private static func ranksBefore(_ a: Int32, _ b: Int32, _ s: UnsafePointer<Float>) -> Bool {
        let x = s[Int(a)], y = s[Int(b)]
        return x > y || (x == y && a < b)
    }

    /// Moves the `count` best-ranked ids to the front of `ids` (quickselect, expected O(n)).
    private static func selectTop(_ ids: UnsafeMutableBufferPointer<Int32>, count k: Int, by s: UnsafePointer<Float>) {
        if k >= ids.count { return }
        var lo = 0, hi = ids.count - 1
        while lo < hi {
            let pivot = ids[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while ranksBefore(ids[i], pivot, s) { i += 1 }
                while ranksBefore(pivot, ids[j], s) { j -= 1 }
                if i <= j { ids.swapAt(i, j); i += 1; j -= 1 }
            }
            if k - 1 <= j { hi = j } else if k - 1 >= i { lo = i } else { return }
        }
    }
}
