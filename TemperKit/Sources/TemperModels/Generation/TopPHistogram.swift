/// A histogram of one row's log-probabilities by distance below the best token, which tells top-p
/// how many of the best tokens hold its mass and orders just those without sorting the vocabulary.
///
/// Bin `b` holds the tokens whose score `s` has `Int((best − s) · binsPerNat) == b` (the last bin
/// also every token further down, −∞ and NaN included). That is monotonic in `s`, so every token
/// of a bin ranks before every token of a later one, and ties share a bin: the first bins, each
/// sorted alone, are the rank-order prefix a full stable sort would give.
struct TopPHistogram {
    /// Bins per nat of log-probability below the best token.
    static let binsPerNat: Float = 16
    /// Bins; the last also takes every token further down.
    static let bins = 1024

    /// The best score of the row.
    let best: Float
    /// The row's unnormalised probability mass per bin: the softmax's exponentials, summed in double.
    private(set) var mass: [Double]
    /// Tokens per bin.
    private(set) var tokens: [Int]

    /// Bins the `vocab` log-probabilities `s`; `shifted` holds the softmax's own exponentials.
    init(_ s: UnsafePointer<Float>, _ shifted: UnsafePointer<Float>, vocab: Int) {
        var best = -Float.infinity
        for i in 0..<vocab where s[i] > best { best = s[i] }
        self.best = best
        var mass = [Double](repeating: 0, count: Self.bins), tokens = [Int](repeating: 0, count: Self.bins)
        for i in 0..<vocab {
            let b = Self.bin(s[i], best: best)
            mass[b] += Double(shifted[i])
            tokens[b] += 1
        }
        self.mass = mass
        self.tokens = tokens
    }

    /// The bin of score `score` below `best`.
    @inline(__always)
    static func bin(_ score: Float, best: Float) -> Int {
        let d = (best - score) * binsPerNat
        return d < Float(bins - 1) ? Int(d) : bins - 1   // also -inf and NaN scores
    }

    /// How many of the best-ranked tokens hold at least `target` of the (unnormalised) mass,
    /// rounded up to whole bins, at least 1. The mass is summed in double; the caller still checks
    /// it in rank order.
    func count(reaching target: Double) -> Int {
        var cumulative = 0.0, n = 0
        for b in 0..<Self.bins {
            cumulative += mass[b]
            n += tokens[b]
            if cumulative >= target { break }
        }
        return max(n, 1)
    }

    /// Writes the rank keys (`Sampler.rankKey`) of the `n` best tokens of `s` to `keys[0..<n]` in
    /// rank order: the tokens of the first bins that hold `n` are scattered bin by bin (a counting
    /// sort), each bin is sorted, and the prefix is kept. `keys` past `n` are left unspecified.
    func sortBest(_ n: Int, _ s: UnsafePointer<Float>, vocab: Int, into keys: UnsafeMutableBufferPointer<UInt64>) {
        var last = 0, held = tokens[0]
        while held < n && last + 1 < Self.bins { last += 1; held += tokens[last] }
        var start = [Int](repeating: 0, count: last + 2)
        for b in 0...last { start[b + 1] = start[b] + tokens[b] }
        var next = Array(start[0...last])
        for i in 0..<vocab {
            let b = Self.bin(s[i], best: best)
            guard b <= last else { continue }
            keys[next[b]] = Sampler.rankKey(s[i], i)
            next[b] += 1
        }
        for b in 0...last where tokens[b] > 1 { keys[start[b]..<start[b + 1]].sort() }
    }
}
