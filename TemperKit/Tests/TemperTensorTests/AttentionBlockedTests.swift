import XCTest
@testable import TemperTensor

/// The blocked kernels: forward from `AttentionKernel.blockedFrom` queries on, and backward always,
/// run their products through the packed GEMM in blocks of `backwardBlockRows` query rows.
extension AttentionTests {
    /// Outputs against the definition with masks, a cached prefix and strided keys and values.
    func testBlockedForwardMatchesReference() {
        let t = AttentionKernel.blockedFrom + 4
        let q = FiniteDifference.param([2, 4, t, 8], seed: 31)
        let cacheK = FiniteDifference.param([2, 2, t + 9, 8], seed: 32)
        let cacheV = FiniteDifference.param([2, 2, t + 9, 8], seed: 33)
        // A cached prefix of 5 keys, read through the cache's strides.
        let k = cacheK.narrow(2, start: 0, length: t + 5), v = cacheV.narrow(2, start: 0, length: t + 5)
        XCTAssertFalse(k.isContiguous)
        let out = Tensor.scaledDotProductAttention(query: q, key: k, value: v)
        FiniteDifference.assertClose(out.scalars, reference(q, k.contiguous(), v.contiguous(), causal: true), tol: 1e-5)
        // Batch row 1 drops its first 7 keys (left padding): its first 2 queries see none and output zeros.
        let keep = Tensor(shape: [2, 1, 1, t + 5], int32: (0..<2 * (t + 5)).map { $0 >= t + 5 && $0 < t + 12 ? 0 : 1 })
        let masked = Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: keep)
        let expected = reference(q, k.contiguous(), v.contiguous(), causal: true, keep: { b, _, _, j in !(b == 1 && j < 7) })
        FiniteDifference.assertClose(masked.scalars, expected, tol: 1e-5)
        XCTAssertEqual(masked.narrow(0, start: 1, length: 1).narrow(2, start: 0, length: 2).scalars, [Float](repeating: 0, count: 4 * 2 * 8))
        let bias = (0..<(t + 5)).map { Float($0 % 3) - 1 }
        let additive = Tensor(shape: [t + 5], scalars: bias)
        let full = Tensor.scaledDotProductAttention(query: q, key: k, value: v, causal: false, mask: additive)
        FiniteDifference.assertClose(full.scalars, reference(q, k.contiguous(), v.contiguous(), causal: false, bias: { _, _, _, j in Double(bias[j]) }),
                                     tol: 1e-5)
    }

    /// Gradients by finite differences through the blocked forward, with a padding mask, and through
    /// two query blocks (the second block's causal width is the full sequence, the first's is not).
    func testBlockedGradients() {
        let t = AttentionKernel.blockedFrom + 2
        let q = FiniteDifference.param([1, 2, t, 4], seed: 41)
        let k = FiniteDifference.param([1, 1, t, 4], seed: 42)
        let v = FiniteDifference.param([1, 1, t, 3], seed: 43)
        let keep = Tensor(shape: [t], int32: (0..<t).map { $0 == 0 || $0 == 5 ? 0 : 1 })
        FiniteDifference.check([q, k, v]) { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: keep) }
        let long = AttentionKernel.backwardBlockRows + 5
        let q2 = FiniteDifference.param([1, 2, long, 2], seed: 44)
        let k2 = FiniteDifference.param([1, 1, long, 2], seed: 45)
        let v2 = FiniteDifference.param([1, 1, long, 2], seed: 46)
        FiniteDifference.check([q2, k2, v2]) { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2]) }
    }
}
