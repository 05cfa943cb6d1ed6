/// `yᵢ = x · Wᵢᵀ` for several weights `Wᵢ` (`[nᵢ, k]`, rows contiguous) that read the same few
/// rows of input `x` — the q, k, v projections and the gate, up projections of a decode step.
///
/// One product per weight would fork and join the worker threads once each; here the columns of
/// all the weights are split between the threads as one range, so a layer's three attention
/// projections (or its two MLP ones) cost one fork/join, and the smaller ones (k, v: 192 columns
/// at SmolLM2's size) no longer leave a thread idle while the other finishes its half.
///
/// Every output goes through exactly the operations `GEMM.sgemm` gives it for the same product
/// alone (`GEMV.dotRows` for one row, `SmallBatchGEMM.columns` for 2…`SmallBatchGEMM.maxRows`),
/// whatever the split, so fusing changes no bit of the results.
enum SharedInputProducts {
    /// One weight and where its product goes: `n` rows of `k` floats, and `m × n` outputs.
    struct Product {
        let weight: UnsafePointer<Float>
        let n: Int
        let output: UnsafeMutablePointer<Float>
    }

    /// Whether `m` input rows take this path (else one `sgemm` per weight).
    static func accepts(rows m: Int) -> Bool { m >= 1 && m <= SmallBatchGEMM.maxRows }

    /// Computes every product for the `m` rows of `x` (`m × k`, contiguous).
    static func run(m: Int, k: Int, x: UnsafePointer<Float>, _ products: [Product]) {
        precondition(accepts(rows: m), "SharedInputProducts: \(m) rows, expected 1...\(SmallBatchGEMM.maxRows)")
        let total = products.reduce(0) { $0 + $1.n }
        let threshold = m == 1 ? GEMV.parallelThreshold : SmallBatchGEMM.parallelThreshold
        let chunks = m * total * k >= threshold ? min(Parallel.threadCount, max(1, total / 16)) : 1
        // Chunk edges on multiples of 8 columns of the concatenated outputs: whole 4-row panels of
        // every weight whose width is a multiple of 4 (all of a Llama's), so no panel is split.
        let per = ((total + chunks - 1) / chunks + 7) / 8 * 8
        Parallel.forEach((total + per - 1) / per) { t in
            var lo = t * per
            let hi = min(total, lo + per)
            var start = 0
            for p in products {
                defer { start += p.n }
                guard lo < start + p.n, lo < hi else { continue }
                let cols = (lo - start)..<(min(hi, start + p.n) - start)
                if m == 1 {
                    GEMV.dotRows(cols, k: k, alpha: 1, x: x, matrix: p.weight, ldm: k, beta: 0, y: p.output, incY: 1)
                } else {
                    SmallBatchGEMM.columns(cols, m: m, k: k, alpha: 1, a: x, lda: k, b: p.weight, ldb: k,
                                           beta: 0, c: p.output, ldc: p.n)
                }
                lo = start + cols.upperBound
            }
        }
    }
}
