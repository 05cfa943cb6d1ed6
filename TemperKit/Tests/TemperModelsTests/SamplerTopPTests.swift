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
}
