import Foundation

/// Scaled dot-product attention with grouped-query heads, causal masking over an optional cached
/// prefix, and an optional padding mask — fused kernels that never keep the `[T, S]` score matrix
/// of a head: many queries go through the packed GEMM in blocks of query rows (one block's scores
/// at a time), a decode step's few row by row. Backward recomputes the probabilities from the saved
/// log-sum-exp (as FlashAttention does) instead of storing them. Its products call `GEMM.product`,
/// not `sgemm`, so a profile charges them to attention rather than to the GEMM rows.
extension Tensor {
    /// `softmax(q·kᵀ·scale + mask)·v` per head.
    ///
    /// - `query` `[B, Hq, T, D]`; `key` `[B, Hkv, S, D]`; `value` `[B, Hkv, S, Dv]`, with `Hq` a
    ///   multiple of `Hkv` (query head `h` reads key/value head `h / (Hq / Hkv)`).
    /// - `causal`: the first `S − T` keys are a cached prefix, and query `i` sees keys
    ///   `0 ... S − T + i` (needs `S ≥ T`).
    /// - `mask`: broadcastable to `[B, Hq, T, S]`; float32 values are added to the scores, int32
    ///   values mean keep (non-zero) or drop (zero). A query row that can see no key outputs zeros.
    /// - `scale` defaults to `1/√D`.
    public static func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, causal: Bool = true,
                                                 mask: Tensor? = nil, scale: Float? = nil) -> Tensor {
        precondition(query.dtype == .float32 && key.dtype == .float32 && value.dtype == .float32, "attention needs float32 q, k, v")
        precondition(query.rank == 4 && key.rank == 4 && value.rank == 4,
                     "attention: q, k, v must be [B, H, T, D]; got \(query.shape), \(key.shape), \(value.shape)")
        let b = query.shape[0], hq = query.shape[1], t = query.shape[2], d = query.shape[3]
        let hkv = key.shape[1], s = key.shape[2], dv = value.shape[3]
        precondition(key.shape[0] == b && key.shape[3] == d, "attention: key shape \(key.shape) does not match query \(query.shape)")
        precondition(value.shape[0] == b && value.shape[1] == hkv && value.shape[2] == s,
                     "attention: value shape \(value.shape) does not match key \(key.shape)")
        precondition(hkv > 0 && hq % hkv == 0, "attention: \(hq) query heads are not a multiple of \(hkv) key/value heads")
        precondition(!causal || s >= t, "attention: causal needs at least as many keys (\(s)) as queries (\(t))")
        var maskInfo: AttentionKernel.Mask? = nil
        if let mask {
            precondition(mask.dtype == .float32 || mask.dtype == .int32, "attention: mask must be float32 (additive) or int32 (keep flags), got \(mask.dtype)")
            maskInfo = AttentionKernel.Mask(tensor: mask.detached(), strides: Broadcast.strides(of: mask, to: [b, hq, t, s]),
                                            boolean: mask.dtype == .int32)
        }
        // Keys and values are read in place when each row is contiguous: a KV cache's filled prefix
        // (a narrowed view) or a head-transposed projection needs no copy per call.
        let q = query.contiguous()
        let k = AttentionKernel.rowsContiguous(key) ? key : key.contiguous()
        let v = AttentionKernel.rowsContiguous(value) ? value : value.contiguous()
        let kernel = AttentionKernel(batch: b, queryHeads: hq, kvHeads: hkv, queries: t, keys: s, dim: d, valueDim: dv,
                                     scale: scale ?? 1 / Float(d).squareRoot(), causal: causal, mask: maskInfo)
        let (out, lse) = kernel.forward(q, k, v)
        let saved = out.detached()
        return record(out, "attention", [q, k, v]) { g in
            let (dq, dk, dvv) = kernel.backward(q, k.contiguous(), v.contiguous(), saved, lse, g.isContiguous ? g : g.copy())
            return [q.requiresGrad ? dq : nil, k.requiresGrad ? dk : nil, v.requiresGrad ? dvv : nil]
        }
    }
}

/// The unrecorded attention kernels and their fixed geometry.
struct AttentionKernel {
    /// A mask read through broadcast strides.
    struct Mask {
        let tensor: Tensor
        let strides: [Int]
        let boolean: Bool
    }

    let batch: Int, queryHeads: Int, kvHeads: Int, queries: Int, keys: Int, dim: Int, valueDim: Int
    let scale: Float, causal: Bool
    let mask: Mask?

    /// Whether `t` (`[B, H, S, D]`) has unit-stride rows, so `forward` can read it through its
    /// batch, head and row strides.
    static func rowsContiguous(_ t: Tensor) -> Bool {
        t.shape[3] <= 1 || t.strides[3] == 1
    }

    /// Keys visible to query `i`.
    @inline(__always) func visible(_ i: Int) -> Int { causal ? Swift.min(keys, keys - queries + i + 1) : keys }

    /// Fills `scores[0..<n]` with scale·q·kⱼ (+ mask) for query row `(bi, h, i)`.
    @inline(__always)
    func scores(_ scores: UnsafeMutablePointer<Float>, _ n: Int, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                keyRowStride: Int, bi: Int, h: Int, i: Int) {
        for j in 0..<n { scores[j] = scale * RowKernels.dot(q, k + j * keyRowStride, dim) }
        applyMask(scores, n, bi: bi, h: h, i: i)
    }

    /// Adds the mask of query row `(bi, h, i)` to its first `n` scores (keep flags: −inf where dropped).
    @inline(__always)
    func applyMask(_ scores: UnsafeMutablePointer<Float>, _ n: Int, bi: Int, h: Int, i: Int) {
        guard let mask else { return }
        let st = mask.strides
        let base = bi * st[0] + h * st[1] + i * st[2]
        if mask.boolean {
            let pm = mask.tensor.int32Pointer + base
            for j in 0..<n where pm[j * st[3]] == 0 { scores[j] = -.infinity }
        } else {
            let pm = mask.tensor.floatPointer + base
            for j in 0..<n { scores[j] += pm[j * st[3]] }
        }
    }

    /// Output `[B, Hq, T, Dv]` and each row's log-sum-exp as (max, log Σ exp(s − max)) `[B·Hq·T, 2]`
    /// (max = -inf for rows that see no key). `q` is contiguous; `k` and `v` need only unit-stride rows.
    func forward(_ q: Tensor, _ k: Tensor, _ v: Tensor) -> (Tensor, Tensor) {
        precondition(AttentionKernel.rowsContiguous(k) && AttentionKernel.rowsContiguous(v), "attention: key/value rows must be contiguous")
        let ks = (k.strides[0], k.strides[1], k.strides[2]), vs = (v.strides[0], v.strides[1], v.strides[2])
        let out = Tensor(uninitializedShape: [batch, queryHeads, queries, valueDim])
        let rows = batch * queryHeads * queries
        let lse = Tensor(uninitializedShape: [rows, 2])
        if queries >= AttentionKernel.blockedFrom {
            blockedForward(q, k, v, out: out, lse: lse)
            return (out, lse)
        }
        // A decode step's few queries: one row at a time.
        let pq = UnsafePointer(q.floatPointer), pk = UnsafePointer(k.floatPointer), pv = UnsafePointer(v.floatPointer)
        let po = out.floatPointer, pl = lse.floatPointer
        let group = queryHeads / kvHeads
        withExtendedLifetime((q, k, v, mask?.tensor)) {
            Parallel.forRanges(rows, grain: Swift.max(1, 4096 / Swift.max(keys * dim, 1))) { range in
                let buf = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(keys, 1))
                defer { buf.deallocate() }
                for row in range {
                    let i = row % queries, h = (row / queries) % queryHeads, bi = row / (queries * queryHeads)
                    let kvh = h / group
                    let kb = pk + bi * ks.0 + kvh * ks.1, vb = pv + bi * vs.0 + kvh * vs.1
                    let orow = po + row * valueDim
                    orow.update(repeating: 0, count: valueDim)
                    let n = visible(i)
                    scores(buf, n, q: pq + row * dim, k: kb, keyRowStride: ks.2, bi: bi, h: h, i: i)
                    let m = RowKernels.max(buf, n)
                    pl[2 * row] = m
                    if m == -.infinity { continue }
                    let l = RowKernels.sumExp(buf, n, shift: m, out: buf)
                    AttentionKernel.weightedRows(buf, n, values: vb, stride: vs.2, into: orow, width: valueDim)
                    let inv = 1 / l
                    for c in 0..<valueDim { orow[c] *= inv }
                    pl[2 * row + 1] = Foundation.logf(l)
                }
            }
        }
        return (out, lse)
    }

    /// `out[c] = Σⱼ w[j] · v[j][c]` over the `n` value rows `v[j]` (`stride` apart) whose weight is
    /// not zero, `out` starting at zero: per element exactly the operations of one
    /// `RowKernels.axpy` per row in row order, but 32 outputs at a time stay in registers across all
    /// the rows — an axpy per key stores the output row and reloads it for the next key, a chain
    /// through memory that made this sum most of a decode step's attention.
    static func weightedRows(_ w: UnsafePointer<Float>, _ n: Int, values: UnsafePointer<Float>, stride: Int,
                             into out: UnsafeMutablePointer<Float>, width: Int) {
        typealias V = SIMD8<Float>
        let width8 = width & ~7
        let output = UnsafeMutableRawPointer(out)
        var c = 0
        while c + 32 <= width8 {
            var a0 = V(), a1 = V(), a2 = V(), a3 = V()
            for j in 0..<n where w[j] != 0 {
                let weight = V(repeating: w[j]), row = UnsafeRawPointer(values + j * stride + c)
                a0 = a0.addingProduct(weight, row.loadUnaligned(as: V.self))
                a1 = a1.addingProduct(weight, row.loadUnaligned(fromByteOffset: 32, as: V.self))
                a2 = a2.addingProduct(weight, row.loadUnaligned(fromByteOffset: 64, as: V.self))
                a3 = a3.addingProduct(weight, row.loadUnaligned(fromByteOffset: 96, as: V.self))
            }
            output.storeBytes(of: a0, toByteOffset: c * 4, as: V.self)
            output.storeBytes(of: a1, toByteOffset: c * 4 + 32, as: V.self)
            output.storeBytes(of: a2, toByteOffset: c * 4 + 64, as: V.self)
            output.storeBytes(of: a3, toByteOffset: c * 4 + 96, as: V.self)
            c += 32
        }
        while c < width8 {
            var a0 = V()
            for j in 0..<n where w[j] != 0 {
                a0 = a0.addingProduct(V(repeating: w[j]), UnsafeRawPointer(values + j * stride + c).loadUnaligned(as: V.self))
            }
            output.storeBytes(of: a0, toByteOffset: c * 4, as: V.self)
            c += 8
        }
        for e in width8..<width {
            var sum: Float = 0
            for j in 0..<n where w[j] != 0 { sum += w[j] * values[j * stride + e] }
            out[e] = sum
        }
    }

    /// Query rows whose probabilities backward recomputes at once: a `[rows, keys]` block of P and
    /// one of dP per task (128 × 2048 keys is 1 MiB each), small enough for L2 at training lengths.
    static let backwardBlockRows = 128

    /// Gradients of q, k, v (all contiguous). Work is split by key/value head so each task owns its dK/dV rows.
    /// As FlashAttention-2's backward (Dao 2023, Alg. 2) in blocks of query rows, with the products
    /// done by the packed GEMM:
    ///   P = exp(scale·Q·Kᵀ + mask − lse)          (recomputed from the saved log-sum-exp)
    ///   dV += Pᵀ·dO,  dP = dO·Vᵀ,  dS = P ∘ (dP − rowsum(dO ∘ O)) · scale
    ///   dQ = dS·K,    dK += dSᵀ·Q
    /// A task's query heads share its K and V, so each block reads them in place. A causal block stops
    /// at the last key its last query sees.
    func backward(_ q: Tensor, _ k: Tensor, _ v: Tensor, _ out: Tensor, _ lse: Tensor, _ g: Tensor) -> (Tensor, Tensor, Tensor) {
        let dq = Tensor(uninitializedShape: q.shape), dk = Tensor.zeros(k.shape), dvT = Tensor.zeros(v.shape)
        let pq = UnsafePointer(q.floatPointer), pk = UnsafePointer(k.floatPointer), pv = UnsafePointer(v.floatPointer)
        let po = UnsafePointer(out.floatPointer), pl = UnsafePointer(lse.floatPointer), pg = UnsafePointer(g.floatPointer)
        let pdq = dq.floatPointer, pdk = dk.floatPointer, pdv = dvT.floatPointer
        let group = queryHeads / kvHeads, blockRows = Swift.min(queries, AttentionKernel.backwardBlockRows)
        withExtendedLifetime((q, k, v, out, lse, g, mask?.tensor)) {
            Parallel.forEach(batch * kvHeads) { task in
                let width = Swift.max(keys, 1)
                // `probs` holds a block's scores, then P; `grads` holds dP = dO·Vᵀ, then dS.
                let probs = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * width)
                let grads = UnsafeMutablePointer<Float>.allocate(capacity: blockRows * width)
                defer { probs.deallocate(); grads.deallocate() }
                let bi = task / kvHeads
                let kb = pk + task * keys * dim, vb = pv + task * keys * valueDim
                let dkb = pdk + task * keys * dim, dvb = pdv + task * keys * valueDim
                for h in (task % kvHeads) * group..<((task % kvHeads) + 1) * group {
                    var i0 = 0
                    while i0 < queries {
                        let rows = Swift.min(blockRows, queries - i0)
                        let row0 = (bi * queryHeads + h) * queries + i0
                        let qb = pq + row0 * dim, gb = pg + row0 * valueDim, dqb = pdq + row0 * dim
                        let n = visible(i0 + rows - 1)   // the widest row of a causal block is its last
                        GEMM.product(transA: false, transB: true, m: rows, n: n, k: dim, alpha: scale, a: qb, lda: dim,
                                     b: kb, ldb: dim, beta: 0, c: probs, ldc: n)
                        GEMM.product(transA: false, transB: true, m: rows, n: n, k: valueDim, alpha: 1, a: gb, lda: valueDim,
                                     b: vb, ldb: valueDim, beta: 0, c: grads, ldc: n)
                        for r in 0..<rows {
                            let row = row0 + r, i = i0 + r
                            probabilitiesAndScoreGradient(probs: probs + r * n, grad: grads + r * n, width: n, seen: visible(i),
                                                          max: pl[2 * row], logSum: pl[2 * row + 1],
                                                          rowDot: RowKernels.dot(pg + row * valueDim, po + row * valueDim, valueDim),
                                                          bi: bi, h: h, i: i)
                        }
                        GEMM.product(transA: true, transB: false, m: n, n: valueDim, k: rows, alpha: 1, a: probs, lda: n,
                                     b: gb, ldb: valueDim, beta: 1, c: dvb, ldc: valueDim)
                        GEMM.product(transA: false, transB: false, m: rows, n: dim, k: n, alpha: 1, a: grads, lda: n,
                                     b: kb, ldb: dim, beta: 0, c: dqb, ldc: dim)
                        GEMM.product(transA: true, transB: false, m: n, n: dim, k: rows, alpha: 1, a: grads, lda: n,
                                     b: qb, ldb: dim, beta: 1, c: dkb, ldc: dim)
                        i0 += rows
                    }
                }
            }
        }
        return (dq, dk, dvT)
    }

    /// For one query row: turns its scores (`probs`, scale·q·kⱼ from the GEMM) into probabilities
    /// pⱼ = exp(sⱼ + maskⱼ − max − log Σ) and its dP row (`grad`) into dSⱼ = pⱼ·(dPⱼ − rowDot)·scale, for
    /// the `seen` keys it sees; the rest of the `width` columns (and a row that sees no key) get zeros.
    @inline(__always)
    func probabilitiesAndScoreGradient(probs: UnsafeMutablePointer<Float>, grad: UnsafeMutablePointer<Float>, width: Int,
                                       seen: Int, max m: Float, logSum: Float, rowDot: Float, bi: Int, h: Int, i: Int) {
        guard m != -.infinity else {
            probs.update(repeating: 0, count: width)
            grad.update(repeating: 0, count: width)
            return
        }
        applyMask(probs, seen, bi: bi, h: h, i: i)
        // (s − max) − log Σ, in that order: max + log Σ could round away the small second term.
        let mv = RowKernels.V(repeating: m), lv = RowKernels.V(repeating: logSum), d = RowKernels.V(repeating: rowDot)
        let sv = RowKernels.V(repeating: scale)
        var j = 0
        while j + 8 <= seen {
            let pj = SIMDMath.exp((RowKernels.load(probs + j) - mv) - lv)
            RowKernels.store(pj, probs + j)
            RowKernels.store(pj * (RowKernels.load(grad + j) - d) * sv, grad + j)
            j += 8
        }
        if j < seen {
            let c = seen - j
            let pj = SIMDMath.exp((ElementwiseKernels.loadPartial(probs + j, c) - mv) - lv)
            ElementwiseKernels.storePartial(pj, probs + j, c)
            ElementwiseKernels.storePartial(pj * (ElementwiseKernels.loadPartial(grad + j, c) - d) * sv, grad + j, c)
        }
        if seen < width {
            (probs + seen).update(repeating: 0, count: width - seen)
            (grad + seen).update(repeating: 0, count: width - seen)
        }
    }

    /// Queries from which forward runs in blocks through the packed GEMM (prefill and training);
    /// fewer, as in a decode step, go row by row, where a GEMM's packing would cost more than it saves.
    /// A variable only so tests can run one input through both forwards and compare them.
    nonisolated(unsafe) static var blockedFrom = 16

    /// Forward for many queries, per (batch, query head, block of query rows), with the products done
    /// by the packed GEMM: S = scale·Q·Kᵀ + mask; each row's m = max S, l = Σ exp(S − m); O = (exp(S − m) / l)·V.
    /// The blocks and their causal widths are backward's, so backward recomputes the same scores (below
    /// `blockedFrom` queries forward scores row by row, and backward's products may differ in the last bit).
    func blockedForward(_ q: Tensor, _ k: Tensor, _ v: Tensor, out: Tensor, lse: Tensor) {
        let ks = (k.strides[0], k.strides[1], k.strides[2]), vs = (v.strides[0], v.strides[1], v.strides[2])
        let pq = UnsafePointer(q.floatPointer), pk = UnsafePointer(k.floatPointer), pv = UnsafePointer(v.floatPointer)
        let po = out.floatPointer, pl = lse.floatPointer
        let group = queryHeads / kvHeads, blockRows = Swift.min(queries, AttentionKernel.backwardBlockRows)
        let blocks = (queries + blockRows - 1) / blockRows
        withExtendedLifetime((q, k, v, mask?.tensor)) {
            Parallel.forEach(batch * queryHeads * blocks) { task in
                let block = task % blocks, h = (task / blocks) % queryHeads, bi = task / (blocks * queryHeads)
                let i0 = block * blockRows, rows = Swift.min(blockRows, queries - i0)
                let kb = pk + bi * ks.0 + (h / group) * ks.1, vb = pv + bi * vs.0 + (h / group) * vs.1
                let row0 = (bi * queryHeads + h) * queries + i0
                let n = visible(i0 + rows - 1)
                let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(rows * n, 1))
                defer { p.deallocate() }
                GEMM.product(transA: false, transB: true, m: rows, n: n, k: dim, alpha: scale, a: pq + row0 * dim, lda: dim,
                             b: kb, ldb: ks.2, beta: 0, c: p, ldc: n)
                for r in 0..<rows {
                    let row = row0 + r, pr = p + r * n, seen = visible(i0 + r)
                    applyMask(pr, seen, bi: bi, h: h, i: i0 + r)
                    (pr + seen).update(repeating: 0, count: n - seen)
                    let m = RowKernels.max(pr, seen)
                    pl[2 * row] = m
                    if m == -.infinity {
                        pr.update(repeating: 0, count: seen)
                        continue
                    }
                    let l = RowKernels.sumExp(pr, seen, shift: m, out: pr)
                    pl[2 * row + 1] = Foundation.logf(l)
                    let inv = RowKernels.V(repeating: 1 / l)
                    var j = 0
                    while j + 8 <= seen { RowKernels.store(RowKernels.load(pr + j) * inv, pr + j); j += 8 }
                    while j < seen { pr[j] *= inv[0]; j += 1 }
                }
                GEMM.product(transA: false, transB: false, m: rows, n: valueDim, k: n, alpha: 1, a: p, lda: n,
                             b: vb, ldb: vs.2, beta: 0, c: po + row0 * valueDim, ldc: valueDim)
            }
        }
    }
}
