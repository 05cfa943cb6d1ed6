import XCTest
@testable import TemperTensor

/// The blocked kernels on a reward model's batches: several sequences of different real lengths,
/// right- or left-padded, so each batch row has its own mask and some query rows see no key at all.
/// Forward is checked against the definition and the row-by-row path, backward against the same
/// attention composed of ordinary ops (matmul, maskedFill, softmax) and against finite differences.
extension AttentionTests {
    /// Keep flags of three sequences of `s` positions: full, right-padded to `s - 40` real tokens,
    /// and left-padded by 37 (with a causal mask its first 37 queries see no key).
    func paddedRows(_ s: Int) -> (tensor: Tensor, keep: (Int, Int) -> Bool) {
        let keep: (Int, Int) -> Bool = { b, j in b == 0 || (b == 1 && j < s - 40) || (b == 2 && j >= 37) }
        let flags = (0..<3 * s).map { keep($0 / s, $0 % s) ? Int32(1) : 0 }
        return (Tensor(shape: [3, 1, 1, s], int32: flags), keep)
    }

    /// Runs `body` with forward's blocked path switched on from `from` queries.
    func withBlockedFrom<R>(_ from: Int, _ body: () -> R) -> R {
        let saved = AttentionKernel.blockedFrom
        AttentionKernel.blockedFrom = from
        defer { AttentionKernel.blockedFrom = saved }
        return body()
    }

    /// Gradients of Σ out ∘ w for q, k, v through the fused kernel (`fused`) or through attention
    /// composed of ordinary ops: softmax(q·kᵀ·scale + bias, dropped keys filled with −1e30)·v, times
    /// zero on rows that see no key (the fused kernel's convention). Fresh parameters from `seeds`.
    func attentionGradients(fused: Bool, shapes: (q: [Int], k: [Int], v: [Int]), seeds: [UInt64], causal: Bool,
                            keepFlags: Tensor?, additive: Tensor?, visible: (Int, Int, Int) -> Bool,
                            bias: (Int, Int, Int) -> Float) -> [[Float]] {
        let q = FiniteDifference.param(shapes.q, seed: seeds[0]), k = FiniteDifference.param(shapes.k, seed: seeds[1])
        let v = FiniteDifference.param(shapes.v, seed: seeds[2])
        let (b, hq, t, d) = (shapes.q[0], shapes.q[1], shapes.q[2], shapes.q[3])
        let (hkv, s, dv) = (shapes.k[1], shapes.k[2], shapes.v[3])
        let w = FiniteDifference.param([b, hq, t, dv], seed: seeds[0] &+ 100).detached()
        let out: Tensor
        if fused {
            let mask: Tensor? = keepFlags ?? additive
            out = Tensor.scaledDotProductAttention(query: q, key: k, value: v, causal: causal, mask: mask)
        } else {
            // Each query head's copy of its key/value head; expand's backward sums the group's gradients.
            let group = hq / hkv
            let kx = k.unsqueeze(2).expand([b, hkv, group, s, d]).reshape([b, hq, s, d])
            let vx = v.unsqueeze(2).expand([b, hkv, group, s, dv]).reshape([b, hq, s, dv])
            var dropped: [Float] = [], biases: [Float] = [], seesAKey: [Float] = []
            for bi in 0..<b {
                for i in 0..<t {
                    var any = false
                    for j in 0..<s {
                        let keep = visible(bi, i, j)
                        dropped.append(keep ? 0 : 1)
                        biases.append(bias(bi, i, j))
                        any = any || keep
                    }
                    seesAKey.append(any ? 1 : 0)
                }
            }
            let scores = q.matmul(kx.transposed()) * (1 / Float(d).squareRoot()) + Tensor(shape: [b, 1, t, s], scalars: biases)
            let probs = scores.maskedFill(Tensor(shape: [b, 1, t, s], scalars: dropped), -1e30).softmax()
            out = probs.matmul(vx) * Tensor(shape: [b, 1, t, 1], scalars: seesAKey)
        }
        (out * w).sum().backward()
        return [q, k, v].map { $0.grad?.scalars ?? [] }
    }

    /// Forward of 3 right/left-padded sequences over two query blocks, with GQA: the blocked path
    /// equals the row path and the definition, and rows that see no key output exact zeros.
    func testBlockedForwardWithPerSequencePaddingMatchesRowPath() {
        let t = AttentionKernel.backwardBlockRows + 12
        let q = FiniteDifference.param([3, 4, t, 8], seed: 51)
        let k = FiniteDifference.param([3, 2, t, 8], seed: 52)
        let v = FiniteDifference.param([3, 2, t, 6], seed: 53)
        let (flags, keep) = paddedRows(t)
        let blocked = withBlockedFrom(1) { Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: flags) }
        let rows = withBlockedFrom(Int.max) { Tensor.scaledDotProductAttention(query: q, key: k, value: v, mask: flags) }
        FiniteDifference.assertClose(blocked.scalars, rows.scalars, tol: 1e-5)
        FiniteDifference.assertClose(blocked.scalars, reference(q, k, v, causal: true, keep: { b, _, _, j in keep(b, j) }), tol: 1e-5)
        let unseen = blocked.narrow(0, start: 2, length: 1).narrow(2, start: 0, length: 37).scalars
        XCTAssertEqual(unseen, [Float](repeating: 0, count: 4 * 37 * 6))
        XCTAssertFalse(blocked.scalars.contains { !$0.isFinite })
    }

    /// Backward of the same batch against attention composed of ordinary ops, after either forward
    /// (both save the log-sum-exp backward starts from).
    func testBlockedBackwardWithPerSequencePaddingMatchesComposedOps() {
        let t = AttentionKernel.backwardBlockRows + 12
        let shapes = (q: [3, 4, t, 8], k: [3, 2, t, 8], v: [3, 2, t, 6])
        let (flags, keep) = paddedRows(t)
        let visible: (Int, Int, Int) -> Bool = { b, i, j in j <= i && keep(b, j) }
        let expected = attentionGradients(fused: false, shapes: shapes, seeds: [61, 62, 63], causal: true, keepFlags: nil,
                                          additive: nil, visible: visible, bias: { _, _, _ in 0 })
        for from in [1, Int.max] {
            let got = withBlockedFrom(from) {
                attentionGradients(fused: true, shapes: shapes, seeds: [61, 62, 63], causal: true, keepFlags: flags,
                                   additive: nil, visible: visible, bias: { _, _, _ in 0 })
            }
            for (name, (g, e)) in zip(["dq", "dk", "dv"], zip(got, expected)) {
                XCTAssertFalse(g.contains { !$0.isFinite }, "\(name), blockedFrom \(from)")
                FiniteDifference.assertClose(g, e, tol: 1e-4)
            }
            // The left-padded sequence's first 37 queries see nothing: no gradient reaches them.
            let dq = Tensor(shape: shapes.q, scalars: got[0]).narrow(0, start: 2, length: 1).narrow(2, start: 0, length: 37)
            XCTAssertEqual(dq.scalars, [Float](repeating: 0, count: 4 * 37 * 8), "blockedFrom \(from)")
        }
    }

    /// Per-query masks `[B, 1, T, S]` over a cached prefix, additive (with −inf, a whole row of it in
    /// batch row 1) and as keep flags, against composed ops; no causal mask, so every block is full width.
    func testBlockedBackwardWithPerQueryMasksMatchesComposedOps() {
        let (t, s) = (AttentionKernel.blockedFrom + 5, AttentionKernel.blockedFrom + 9)
        let shapes = (q: [2, 6, t, 5], k: [2, 3, s, 5], v: [2, 3, s, 4])
        let visible: (Int, Int, Int) -> Bool = { b, i, j in !(b == 1 && i == 3) && (i + j + b) % 5 != 0 }
        let bias: (Int, Int, Int) -> Float = { b, i, j in Float((i * 7 + j * 3 + b) % 5) * 0.5 - 1 }
        var additive: [Float] = [], flags: [Int32] = []
        for b in 0..<2 { for i in 0..<t { for j in 0..<s {
            additive.append(visible(b, i, j) ? bias(b, i, j) : -.infinity)
            flags.append(visible(b, i, j) ? 1 : 0)
        } } }
        let withBias = attentionGradients(fused: false, shapes: shapes, seeds: [71, 72, 73], causal: false, keepFlags: nil,
                                          additive: nil, visible: visible, bias: bias)
        let gotBias = attentionGradients(fused: true, shapes: shapes, seeds: [71, 72, 73], causal: false, keepFlags: nil,
                                         additive: Tensor(shape: [2, 1, t, s], scalars: additive), visible: visible, bias: bias)
        let withFlags = attentionGradients(fused: false, shapes: shapes, seeds: [71, 72, 73], causal: false, keepFlags: nil,
                                           additive: nil, visible: visible, bias: { _, _, _ in 0 })
        let gotFlags = attentionGradients(fused: true, shapes: shapes, seeds: [71, 72, 73], causal: false,
                                          keepFlags: Tensor(shape: [2, 1, t, s], int32: flags), additive: nil, visible: visible,
                                          bias: { _, _, _ in 0 })
        for (got, expected) in [(gotBias, withBias), (gotFlags, withFlags)] {
            for (g, e) in zip(got, expected) {
                XCTAssertFalse(g.contains { !$0.isFinite })
                FiniteDifference.assertClose(g, e, tol: 1e-4)
            }
        }
    }

    /// Finite differences with batch 3, GQA and per-sequence padding (right, left, one full row):
    /// one block of 20 queries, then two blocks of a longer sequence with small heads.
    func testBlockedGradientsWithPerSequencePadding() {
        let t = AttentionKernel.blockedFrom + 4
        let keep = Tensor(shape: [3, 1, 1, t], int32: (0..<3 * t).map { p in
            let (b, j) = (p / t, p % t)
            return b == 0 || (b == 1 && j < t - 6) || (b == 2 && j >= 3) ? 1 : 0
        })
        let q = FiniteDifference.param([3, 4, t, 4], seed: 81)
        let k = FiniteDifference.param([3, 2, t, 4], seed: 82)
        let v = FiniteDifference.param([3, 2, t, 3], seed: 83)
        FiniteDifference.check([q, k, v]) { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: keep) }
        let long = AttentionKernel.backwardBlockRows + 3
        let (flags, _) = paddedRows(long)
        let q2 = FiniteDifference.param([3, 2, long, 2], seed: 84)
        let k2 = FiniteDifference.param([3, 1, long, 2], seed: 85)
        let v2 = FiniteDifference.param([3, 1, long, 2], seed: 86)
        FiniteDifference.check([q2, k2, v2]) { Tensor.scaledDotProductAttention(query: $0[0], key: $0[1], value: $0[2], mask: flags) }
    }
}
