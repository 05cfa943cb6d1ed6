import Foundation
import XCTest
@testable import TemperTensor

final class AttentionTests: XCTestCase {
    /// Softmax attention by the definition, in Double. `keep(b, h, i, j)` and `bias` model the masks.
    func reference(_ q: Tensor, _ k: Tensor, _ v: Tensor, causal: Bool,
                   keep: (Int, Int, Int, Int) -> Bool = { _, _, _, _ in true },
                   bias: (Int, Int, Int, Int) -> Double = { _, _, _, _ in 0 }) -> [Float] {
        let (b, hq, t, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (hkv, s, dv) = (k.shape[1], k.shape[2], v.shape[3])
        let scale = 1 / Double(d).squareRoot()
        var out: [Float] = []
        for bi in 0..<b {
            for h in 0..<hq {
                let kh = h / (hq / hkv)
                for i in 0..<t {
                    var scores = [Double](repeating: -.infinity, count: s)
                    for j in 0..<s where (!causal || j <= s - t + i) && keep(bi, h, i, j) {
                        var dot = 0.0
                        for c in 0..<d { dot += Double(q[bi, h, i, c]) * Double(k[bi, kh, j, c]) }
                        scores[j] = dot * scale + bias(bi, h, i, j)
                    }
                    let m = scores.max()!
                    if m == -.infinity { out += [Float](repeating: 0, count: dv); continue }
                    let e = scores.map { Foundation.exp($0 - m) }
                    let z = e.reduce(0, +)
                    for c in 0..<dv {
                        var acc = 0.0
                        for j in 0..<s { acc += e[j] / z * Double(v[bi, kh, j, c]) }
                        out.append(Float(acc))
                    }
                }
            }
        }
        return out
    }

    func testCausalGQAMatchesReference() {
        let q = FiniteDifference.param([2, 6, 5, 16], seed: 1)
        let k = FiniteDifference.param([2, 2, 5, 16], seed: 2)
        let v = FiniteDifference.param([2, 2, 5, 9], seed: 3)
        let out = Tensor.scaledDotProductAttention(query: q, key: k, value: v)
        XCTAssertEqual(out.shape, [2, 6, 5, 9])
        FiniteDifference.assertClose(out.scalars, reference(q, k, v, causal: true), tol: 1e-5)
        let full = Tensor.scaledDotProductAttention(query: q, key: k, value: v, causal: false)
        FiniteDifference.assertClose(full.scalars, reference(q, k, v, causal: false), tol: 1e-5)
    }

    /// Sequences longer than any kernel tile, with scores large enough that the running maximum
    /// changes often (the online-softmax rescaling path).
    func testLongSequencesWithLargeScores() {
        let q = FiniteDifference.param([1, 3, 45, 64], seed: 21) * 4
        let k = FiniteDifference.param([1, 1, 45, 64], seed: 22) * 4
        let v = FiniteDifference.param([1, 1, 45, 64], seed: 23)
        let out = Tensor.scaledDotProductAttention(query: q, key: k, value: v)
        FiniteDifference.assertClose(out.scalars, reference(q, k, v, causal: true), tol: 1e-4)
        let qs = q.narrow(2, start: 40, length: 5)
        let cached = Tensor.scaledDotProductAttention(query: qs, key: k, value: v)
        FiniteDifference.assertClose(cached.scalars, out.narrow(2, start: 40, length: 5).scalars, tol: 1e-5)
    }

    func testKVCachePrefix() {
        let q = FiniteDifference.param([1, 4, 3, 8], seed: 4)
        let k = FiniteDifference.param([1, 2, 7, 8], seed: 5)
        let v = FiniteDifference.param([1, 2, 7, 8], seed: 6)
        let out = Tensor.scaledDotProductAttention(query: q, key: k, value: v)
        FiniteDifference.assertClose(out.scalars, reference(q, k, v, causal: true), tol: 1e-5)
        // The last query of a prefill equals one decoding step over the same cache.
        let qAll = FiniteDifference.param([1, 4, 7, 8], seed: 7)
        let prefill = Tensor.scaledDotProductAttention(query: qAll, key: k, value: v)
        let step = Tensor.scaledDotProductAttention(query: qAll.narrow(2, start: 6, length: 1), key: k, value: v)
        FiniteDifference.assertClose(step.scalars, prefill.narrow(2, start: 6, length: 1).scalars, tol: 1e-6)
    }

    func testPaddingMasks() {
        let q = FiniteDifference.param([2, 2, 4, 8], seed: 8)
        let k = FiniteDifference.param([2, 1, 4, 8], seed: 9)
        let v = FiniteDifference.param([2, 1, 4, 8], seed: 10)
        // Batch row 1 has its first key padded out (left padding).
        let keep = Tensor(shape: [2, 1, 1, 4], int32: [1, 1, 1, 1, 0, 1, 1, 1])
        let out = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: keep)
        let expected = reference(q, k, v, causal: true, keep: { b, _, _, j in !(b == 1 && j == 0) })
        FiniteDifference.assertClose(out.scalars, expected, tol: 1e-5)
        // Query 0 of batch 1 sees only the padded key: its output is zero.
        XCTAssertEqual(out.narrow(0, start: 1, length: 1).narrow(2, start: 0, length: 1).scalars, [Float](repeating: 0, count: 16))
        let additive = Tensor(shape: [4], scalars: [0.5, -1, 0, 2])
        let out2 = Tensor.scaledDotProductAttention(query: q, key: k, value: v, causal: false, mask: additive)
        FiniteDifference.assertClose(out2.scalars, reference(q, k, v, causal: false, bias: { _, _, _, j in [0.5, -1, 0, 2][j] }), tol: 1e-5)
    }

    func testGradients() {
        let q = FiniteDifference.param([1, 4, 3, 5], seed: 11)
        let k = FiniteDifference.param([1, 2, 4, 5], seed: 12)
        let v = FiniteDifference.param([1, 2, 4, 3], seed: 13)
        FiniteDifference.check([q, k, v]) { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2]) }
        FiniteDifference.check([q, k, v]) { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], causal: false) }
        let keep = Tensor(shape: [4], int32: [0, 1, 1, 1])
        FiniteDifference.check([q, k, v]) { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: keep) }
        let q2 = FiniteDifference.param([2, 2, 3, 9], seed: 14)
        let k2 = FiniteDifference.param([2, 2, 3, 9], seed: 15)
        let v2 = FiniteDifference.param([2, 2, 3, 9], seed: 16)
        FiniteDifference.check([q2, k2, v2]) { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], scale: 0.7) }
    }
}
