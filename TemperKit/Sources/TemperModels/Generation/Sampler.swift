import Foundation
import TemperTensor

/// Turns one row of logits into a token: repetition penalty, suppressed tokens (`suppress_tokens`,
/// and the stop tokens before `min_new_tokens`), temperature, top-k, top-p, min-p, then a draw (or
/// argmax when greedy), in Hugging Face's order (logits processors before warpers).
struct Sampler {
    let parameters: GenerationOptions
    /// Scratch, reused across steps so sampling allocates nothing per token.
    private var scores: [Float] = []
    private var keys: [UInt64] = []
    private var weights: [Float] = []
    /// exp(score − max score) of every token and their sum, from the softmax (top-p only).
    private var shifted: [Float] = []
    private var shiftedSum: Double = 1

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
            if p.temperature > 0 && p.topP < 1 {
                // Top-p's histogram reads these; kept here rather than computing exp twice.
                if shifted.count != vocab { shifted = [Float](repeating: 0, count: vocab) }
                shifted.withUnsafeMutableBufferPointer { e in
                    for i in 0..<vocab { e[i] = Foundation.exp(s[i] - maxV); sum += Double(e[i]) }
                }
                shiftedSum = sum
            } else {
                for i in 0..<vocab { sum += Double(Foundation.exp(s[i] - maxV)) }
            }
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
            if keys.count != vocab { keys = [UInt64](repeating: 0, count: vocab) }
            let limit = p.topK > 0 && p.topK < vocab ? p.topK : vocab
            keep = limit
            scores.withUnsafeBufferPointer { sb in
                let s = sb.baseAddress!
                keys.withUnsafeMutableBufferPointer { o in
                    for i in 0..<vocab { o[i] = Sampler.rankKey(s[i], i) }
                    // Only as many of the best tokens as top-p's mass needs are ever sorted (a full
                    // sort of the vocabulary per token would cost more than the model's forward at
                    // small batch): a histogram says how many that is, and the sorted prefix grows
                    // should float rounding in rank order fall just short of the mass.
                    var n = limit
                    if p.topP < 1 {
                        n = shifted.withUnsafeBufferPointer {
                            min(limit, Sampler.topPCount(s, $0.baseAddress!, total: shiftedSum, vocab: vocab, topP: p.topP))
                        }
                    }
                    while true {
                        Sampler.selectSmallest(o, count: n)
                        o[0..<n].sort()
                        if p.topP < 1 {
                            var mass: Float = 0
                            for i in 0..<n {
                                mass += Foundation.exp(s[Sampler.id(o[i])])
                                if mass >= p.topP { keep = i + 1; return }
                            }
                        }
                        if n == limit { return }
                        n = min(limit, n * 4)
                    }
                }
            }
        }
        // The draw walks the survivors in rank order (id order without truncation) through
        // reused scratch: no per-token arrays of the vocabulary's size.
        if weights.count != vocab { weights = [Float](repeating: 0, count: vocab) }
        return scores.withUnsafeBufferPointer { sb in
            keys.withUnsafeBufferPointer { kb in
                weights.withUnsafeMutableBufferPointer { wb in
                    let s = sb.baseAddress!, w = wb.baseAddress!
                    func candidate(_ i: Int) -> Int { needsOrder ? Sampler.id(kb[i]) : i }
                    var best = -Float.infinity
                    for i in 0..<keep { best = max(best, s[candidate(i)]) }
                    let floor = p.minP > 0 ? best + Foundation.log(p.minP) : -Float.infinity
                    var total: Float = 0, last = -1
                    for i in 0..<keep {
                        let c = candidate(i)
                        guard s[c] >= floor else { w[i] = 0; continue }
                        w[i] = Foundation.exp(s[c] - best)
                        total += w[i]
                        last = i
                    }
                    guard last >= 0 else { return (Int32(candidate(0)), s[candidate(0)]) }   // NaN logits only
                    var u = rng.nextUniform() * total
                    for i in 0...last where s[candidate(i)] >= floor {
                        u -= w[i]
                        if u < 0 { return (Int32(candidate(i)), s[candidate(i)]) }
                    }
                    return (Int32(candidate(last)), s[candidate(last)])
                }
            }
        }
    }

    /// Token `id` with log-probability `score` as a key whose unsigned order is the rank order:
    /// higher score first, ties by lower id (what a stable sort of the ids by descending score
    /// gives), so any partial selection agrees with a full sort, and sorting compares integers.
    @inline(__always)
    static func rankKey(_ score: Float, _ id: Int) -> UInt64 {
        let bits = (score == 0 ? 0 : score).bitPattern   // -0 ties with +0, as the float comparison has it
        let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(~ascending) << 32 | UInt64(UInt32(id))
    }

    /// The token id a rank key holds.
    @inline(__always)
    static func id(_ key: UInt64) -> Int { Int(UInt32(truncatingIfNeeded: key)) }

    /// Bins per nat of log-probability below the best token in `topPCount`'s histogram.
    static let binsPerNat: Float = 16
    /// Bins in that histogram; the last also takes every token further down (suppressed ones too).
    static let bins = 1024

    /// How many of the best-ranked tokens hold at least `topP` of the mass, rounded up to whole
    /// histogram bins of the log-probabilities `s`: each bin ranks wholly before the next, so the
    /// count is a rank-order prefix. The mass is `shifted[i] / total` (the softmax's own
    /// exponentials), summed in double; the caller still checks it in rank order.
    static func topPCount(_ s: UnsafePointer<Float>, _ shifted: UnsafePointer<Float>, total: Double, vocab: Int,
                          topP: Float) -> Int {
        var best = -Float.infinity
        for i in 0..<vocab { best = max(best, s[i]) }
        var mass = [Double](repeating: 0, count: bins), count = [Int](repeating: 0, count: bins)
        let last = Float(bins - 1)
        for i in 0..<vocab {
            let d = (best - s[i]) * binsPerNat
            let b = d < last ? Int(d) : bins - 1   // also -inf and NaN scores
            mass[b] += Double(shifted[i])
            count[b] += 1
        }
        let target = Double(topP) * total
        var cumulative = 0.0, n = 0
        for b in 0..<bins {
            cumulative += mass[b]
            n += count[b]
            if cumulative >= target { break }
        }
        return max(n, 1)
    }

    /// Moves the `count` smallest keys to the front of `keys` (quickselect, expected O(n)).
    private static func selectSmallest(_ keys: UnsafeMutableBufferPointer<UInt64>, count k: Int) {
        if k >= keys.count { return }
        var lo = 0, hi = keys.count - 1
        while lo < hi {
            let pivot = keys[(lo + hi) / 2]
            var i = lo, j = hi
            while i <= j {
                while keys[i] < pivot { i += 1 }
                while pivot < keys[j] { j -= 1 }
                if i <= j { keys.swapAt(i, j); i += 1; j -= 1 }
            }
            if k - 1 <= j { hi = j } else if k - 1 >= i { lo = i } else { return }
        }
    }
}
