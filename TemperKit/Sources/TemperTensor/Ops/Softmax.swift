import Foundation

/// Softmax and log-softmax along the last axis: fused row kernels that subtract the row maximum,
/// so logits of ±1e4 give finite, exact results.
extension Tensor {
    /// exp(x - logsumexp(x)) along the last axis.
    public func softmax() -> Tensor {
        Tensor.checkFloat(self, self, "softmax")
        precondition(rank >= 1, "softmax of a 0-D tensor")
        let x = contiguous()
        let n = shape[rank - 1], rows = count / Swift.max(n, 1)
        let y = Tensor(uninitializedShape: shape)
        let px = UnsafePointer(x.floatPointer), py = y.floatPointer
        withExtendedLifetime(x) {
            RowKernels.forRows(rows, width: n) { range in
                for r in range {
                    let xr = px + r * n, yr = py + r * n
                    let m = RowKernels.max(xr, n)
                    let s = RowKernels.sumExp(xr, n, shift: m, out: yr)
                    let inv = SIMD8<Float>(repeating: 1 / s)
                    var j = 0
                    while j + 8 <= n { RowKernels.store(RowKernels.load(yr + j) * inv, yr + j); j += 8 }
                    while j < n { yr[j] *= inv[0]; j += 1 }
                }
            }
        }
        let saved = y.detached()   // not `y`: that would be a reference cycle through gradFn
        return record(y, "softmax", [x]) { g in
            let gc = g.isContiguous ? g : g.copy()
            let gx = Tensor(uninitializedShape: saved.shape)
            let pg = UnsafePointer(gc.floatPointer), py = UnsafePointer(saved.floatPointer), pd = gx.floatPointer
            withExtendedLifetime((gc, saved)) {
                RowKernels.forRows(rows, width: n) { range in
                    for r in range {
                        let gr = pg + r * n, yr = py + r * n, dr = pd + r * n
                        let d = SIMD8<Float>(repeating: RowKernels.dot(gr, yr, n))
                        var j = 0
                        while j + 8 <= n { RowKernels.store(RowKernels.load(yr + j) * (RowKernels.load(gr + j) - d), dr + j); j += 8 }
                        while j < n { dr[j] = yr[j] * (gr[j] - d[0]); j += 1 }
                    }
                }
            }
            return [gx]
        }
    }

    /// x - logsumexp(x) along the last axis.
    public func logSoftmax() -> Tensor {
        Tensor.checkFloat(self, self, "logSoftmax")
        precondition(rank >= 1, "logSoftmax of a 0-D tensor")
        let x = contiguous()
        let n = shape[rank - 1], rows = count / Swift.max(n, 1)
        let y = Tensor(uninitializedShape: shape)
        let px = UnsafePointer(x.floatPointer), py = y.floatPointer
        withExtendedLifetime(x) {
            RowKernels.forRows(rows, width: n) { range in
                for r in range {
                    let xr = px + r * n, yr = py + r * n
                    let m = RowKernels.max(xr, n)
                    // (x − max) − log Σ, never x − (max + log Σ): the latter rounds at |x| ~ 1e4.
                    let mv = SIMD8<Float>(repeating: m)
                    let ls = SIMD8<Float>(repeating: Foundation.logf(RowKernels.sumExp(xr, n, shift: m, out: nil)))
                    var j = 0
                    while j + 8 <= n { RowKernels.store((RowKernels.load(xr + j) - mv) - ls, yr + j); j += 8 }
                    while j < n { yr[j] = (xr[j] - m) - ls[0]; j += 1 }
                }
            }
        }
        let saved = y.detached()   // not `y`: that would be a reference cycle through gradFn
        return record(y, "logSoftmax", [x]) { g in
            let gc = g.isContiguous ? g : g.copy()
            let gx = Tensor(uninitializedShape: saved.shape)
            let pg = UnsafePointer(gc.floatPointer), py = UnsafePointer(saved.floatPointer), pd = gx.floatPointer
            withExtendedLifetime((gc, saved)) {
                RowKernels.forRows(rows, width: n) { range in
                    for r in range {
                        let gr = pg + r * n, yr = py + r * n, dr = pd + r * n
                        let s = SIMD8<Float>(repeating: RowKernels.sum(gr, n))
                        var j = 0
                        while j + 8 <= n {
                            RowKernels.store(RowKernels.load(gr + j) - SIMDMath.exp(RowKernels.load(yr + j)) * s, dr + j)
                            j += 8
                        }
                        while j < n { dr[j] = gr[j] - Foundation.expf(yr[j]) * s[0]; j += 1 }
                    }
                }
            }
            return [gx]
        }
    }
}
