import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

/// Top-p sorts only a growing prefix of the vocabulary; these check it keeps exactly the tokens a
/// full stable sort would (ties by lower id), also when the prefix has to grow several times.
final class SamplerTopPTests: XCTestCase {
    func draws(_ logits: [Float], _ params: GenerationOptions, n: Int) -> Set<Int32> {
        var sampler = Sampler(parameters: params)
        var rng = PhiloxRNG(seed: 5)
        var seen = Set<Int32>()
        logits.withUnsafeBufferPointer { p in
            for _ in 0..<n { seen.insert(sampler.sample(p.baseAddress!, vocab: logits.count, seen: [], rng: &rng).0) }
        }
        return seen
    }

    func testTiesAreKeptInIdOrderPastTheFirstPrefix() {
        // 2000 equally likely tokens: top-p 0.2 needs 400 of them, beyond the first prefix of 64
        // and the second of 256; a stable sort keeps ids 0..<400 (up to float rounding of the mass).
        let logits = [Float](repeating: 0, count: 2000)
        let kept = draws(logits, GenerationOptions(temperature: 1, topP: 0.2), n: 20000)
        XCTAssertLessThan(kept.max()!, 402)
        XCTAssertGreaterThan(kept.count, 380)
    }

    func testKeptSetMatchesAFullSort() {
        var rng = PhiloxRNG(seed: 9)
        let logits = (0..<5000).map { _ in Float(rng.nextUniform()) * 6 }
        let top = 0.5
        // The full-sort reference: best first, ties by id, until the mass reaches top-p.
        let maxL = logits.max()!
        let z = logits.reduce(0.0) { $0 + Foundation.exp(Double($1 - maxL)) }
        let order = logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        var mass = 0.0, expected = Set<Int32>()
        for i in order {
            expected.insert(Int32(i))
            mass += Foundation.exp(Double(logits[i] - maxL)) / z
            if mass >= top { break }
        }
        let kept = draws(logits, GenerationOptions(temperature: 1, topP: Float(top)), n: 30000)
        XCTAssertTrue(kept.isSubset(of: expected), "sampled \(kept.subtracting(expected).count) tokens outside the top-p set")
        XCTAssertGreaterThan(kept.count, expected.count * 9 / 10)
    }

    /// The log-probabilities with scalar arithmetic: temperature, max, a double sum of libm's `expf`
    /// (the sampler's vectorised exp is within 2 ulp of it, so its log Z can differ in the last bit).
    private func logProbabilities(_ logits: [Float], temperature: Float) -> [Float] {
        let invT: Float = temperature > 0 ? 1 / temperature : 1
        let scaled = logits.map { $0 * invT }
        let maxV = scaled.reduce(-Float.infinity) { max($0, $1) }
        var sum: Double = 0
        for v in scaled { sum += Double(Foundation.exp(v - maxV)) }
        let logZ = maxV + Float(Foundation.log(sum))
        return scaled.map { $0 - logZ }
    }

    /// The draw as a full stable sort defines it (what the sampler did before its partial
    /// selection): rank every token, cut at top-k, then where the rank-order float mass reaches
    /// top-p, then below min-p; walk the survivors in rank order with one uniform.
    private func referenceDraw(_ s: [Float], _ p: GenerationOptions, _ rng: inout PhiloxRNG) -> Int32 {
        let vocab = s.count
        var candidates = Array(0..<vocab)
        if p.topK > 0 || p.topP < 1 {
            candidates.sort { s[$0] > s[$1] || (s[$0] == s[$1] && $0 < $1) }
            var keep = p.topK > 0 && p.topK < vocab ? p.topK : vocab
            if p.topP < 1 {
                var mass: Float = 0
                for i in 0..<keep {
                    mass += Foundation.exp(s[candidates[i]])
                    if mass >= p.topP { keep = i + 1; break }
                }
            }
            candidates = Array(candidates[0..<keep])
        }
        let best = candidates.map { s[$0] }.max()!
        let floor = p.minP > 0 ? best + Foundation.log(p.minP) : -Float.infinity
        let survivors = candidates.filter { s[$0] >= floor }
        let weights = survivors.map { Foundation.exp(s[$0] - best) }
        var total: Float = 0
        for w in weights { total += w }
        var u = rng.nextUniform() * total
        for (i, w) in weights.enumerated() {
            u -= w
            if u < 0 { return Int32(survivors[i]) }
        }
        return Int32(survivors.last!)
    }

    func testDrawsEqualTheFullSortReferenceTokenForToken() {
        var rng = PhiloxRNG(seed: 13)
        // A peaked row, a flat one (top-p needs thousands of tokens) and one with many exact ties.
        let rows: [[Float]] = [
            (0..<3000).map { _ in Float(rng.nextUniform()) * 12 },
            (0..<3000).map { _ in Float(rng.nextUniform()) * 0.5 },
            (0..<3000).map { _ in Float(Int(rng.nextUniform() * 6)) },
        ]
        let settings = [
            GenerationOptions(temperature: 1, topP: 0.95),
            GenerationOptions(temperature: 0.7, topP: 0.5),
            GenerationOptions(temperature: 1.3, topK: 40, topP: 0.9),
            GenerationOptions(temperature: 1, topK: 200),
            GenerationOptions(temperature: 1, topP: 0.8, minP: 0.05),
            GenerationOptions(temperature: 1),
        ]
        for (r, logits) in rows.enumerated() {
            for (k, options) in settings.enumerated() {
                var sampler = Sampler(parameters: options)
                var ours = PhiloxRNG(seed: 21), theirs = PhiloxRNG(seed: 21)
                let s = logProbabilities(logits, temperature: options.temperature)
                logits.withUnsafeBufferPointer { lp in
                    for draw in 0..<150 {
                        let (token, logProb) = sampler.sample(lp.baseAddress!, vocab: logits.count, seen: [], rng: &ours)
                        let expected = referenceDraw(s, options, &theirs)
                        XCTAssertEqual(token, expected, "row \(r), settings \(k), draw \(draw)")
                        XCTAssertEqual(logProb, s[Int(token)], accuracy: 2 * s[Int(token)].ulp + 2 * Float(20).ulp,
                                       "row \(r), settings \(k), draw \(draw)")
                        if token != expected { return }
                    }
                }
            }
        }
    }
}
