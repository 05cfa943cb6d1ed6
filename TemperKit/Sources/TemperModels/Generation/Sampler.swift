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
            // The softmax in vectorised passes (SoftmaxRow): its exponentials are SIMDMath.exp's,
            // within about 2 ulp of expf, so log Z may differ from a scalar loop's in the last bits.
            let maxV = SoftmaxRow.scale(s.baseAddress!, count: vocab, by: invT)
            let sum: Double
            if p.temperature > 0 && p.topP < 1 {
                // Top-p's histogram reads these; kept here rather than computing exp twice.
                if shifted.count != vocab { shifted = [Float](repeating: 0, count: vocab) }
                sum = shifted.withUnsafeMutableBufferPointer { e in
                    SoftmaxRow.exponentialSum(s.baseAddress!, count: vocab, shift: maxV, into: e.baseAddress!)
                }
                shiftedSum = sum
            } else {
                sum = SoftmaxRow.exponentialSum(s.baseAddress!, count: vocab, shift: maxV, into: nil)
            }
            let logZ = maxV + Float(Foundation.log(sum))
            SoftmaxRow.subtract(logZ, from: s.baseAddress!, count: vocab)   // now log-probabilities
        }
        if p.temperature == 0 {
            let best = scores.withUnsafeBufferPointer { SoftmaxRow.argmax($0.baseAddress!, count: vocab) }
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
                    // Only as many of the best tokens as top-p's mass needs are ever ordered (a full
                    // sort of the vocabulary per token would cost more than the model's forward at
                    // small batch). A histogram of the log-probabilities says how many that is, and
                    // since its bins rank wholly one before the next, sorting each of its first bins
                    // alone puts them in full-sort order. Should float rounding in rank order fall
                    // just short of the mass, a growing prefix is selected from all the keys.
                    var n = limit
                    if p.topP < 1 {
                        let histogram = shifted.withUnsafeBufferPointer { TopPHistogram(s, $0.baseAddress!, vocab: vocab) }
                        n = min(limit, histogram.count(reaching: Double(p.topP) * shiftedSum))
                        histogram.sortBest(n, s, vocab: vocab, into: o)
                        if let cut = Sampler.topPCut(o, n, s, topP: p.topP) { keep = cut; return }
                        if n == limit { return }
                        n = min(limit, n * 4)
                    }
                    for i in 0..<vocab { o[i] = Sampler.rankKey(s[i], i) }
                    while true {
                        Sampler.selectSmallest(o, count: n)
                        o[0..<n].sort()
                        if p.topP < 1, let cut = Sampler.topPCut(o, n, s, topP: p.topP) { keep = cut; return }
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

    /// How many of the rank-ordered keys `keys[0..<n]` top-p keeps: up to the first at which their
    /// probabilities (e^score, summed in float in rank order) reach `topP`; nil if they never do.
    static func topPCut(_ keys: UnsafeMutableBufferPointer<UInt64>, _ n: Int, _ s: UnsafePointer<Float>, topP: Float) -> Int? {
        var mass: Float = 0
        for i in 0..<n {
            mass += Foundation.exp(s[id(keys[i])])
            if mass >= topP { return i + 1 }
        }
        return nil
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
