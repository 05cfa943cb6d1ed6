/// RMSNorm (Llama) and LayerNorm over the last axis, each one fused pass per row forward and one
/// backward; per-row statistics are saved instead of recomputed.
extension Tensor {
    /// `x / sqrt(mean(x²) + eps) · weight` over the last axis; `weight` is `[D]`.
    public func rmsNorm(weight: Tensor, eps: Float) -> Tensor {
        Tensor.checkFloat(self, weight, "rmsNorm")
        precondition(rank >= 1, "rmsNorm of a 0-D tensor")
        let d = shape[rank - 1], rows = count / Swift.max(d, 1)
        precondition(weight.shape == [d], "rmsNorm: weight shape \(weight.shape), expected [\(d)]")
        let x = contiguous(), w = weight.contiguous()
        let y = Tensor(uninitializedShape: shape)
        let rstd = Tensor(uninitializedShape: [rows])
        let px = UnsafePointer(x.floatPointer), pw = UnsafePointer(w.floatPointer), py = y.floatPointer, pr = rstd.floatPointer
        withExtendedLifetime((x, w)) {
            RowKernels.forRows(rows, width: d) { range in
                for r in range {
                    let xr = px + r * d, yr = py + r * d
                    let inv = 1 / (RowKernels.dot(xr, xr, d) / Float(d) + eps).squareRoot()
                    pr[r] = inv
                    let iv = SIMD8<Float>(repeating: inv)
                    var j = 0
                    while j + 8 <= d { RowKernels.store(RowKernels.load(xr + j) * iv * RowKernels.load(pw + j), yr + j); j += 8 }
                    while j < d { yr[j] = xr[j] * inv * pw[j]; j += 1 }
                }
            }
        }
        return record(y, "rmsNorm", [x, w]) { g in
            let gc = g.isContiguous ? g : g.copy()
            let pg = UnsafePointer(gc.floatPointer), px = UnsafePointer(x.floatPointer)
            let pw = UnsafePointer(w.floatPointer), pr = UnsafePointer(rstd.floatPointer)
            var gx: Tensor? = nil, gw: Tensor? = nil
            withExtendedLifetime((gc, x, w, rstd)) {
                if x.requiresGrad {
                    let t = Tensor(uninitializedShape: x.shape)
                    let pd = t.floatPointer
                    RowKernels.forRows(rows, width: d) { range in
                        for r in range {
                            let gr = pg + r * d, xr = px + r * d, dr = pd + r * d
                            let inv = pr[r]
                            // dx = r·(g·w − x̂·mean(g·w·x̂)), x̂ = x·r
                            var acc = SIMD8<Float>(repeating: 0)
                            var j = 0
                            while j + 8 <= d { acc = acc.addingProduct(RowKernels.load(gr + j) * RowKernels.load(pw + j), RowKernels.load(xr + j)); j += 8 }
                            var dotGX = acc.sum()
                            while j < d { dotGX += gr[j] * pw[j] * xr[j]; j += 1 }
                            let c = SIMD8<Float>(repeating: dotGX * inv * inv / Float(d))
                            let iv = SIMD8<Float>(repeating: inv)
                            j = 0
                            while j + 8 <= d {
                                RowKernels.store(iv * (RowKernels.load(gr + j) * RowKernels.load(pw + j) - RowKernels.load(xr + j) * c), dr + j)
                                j += 8
                            }
                            while j < d { dr[j] = inv * (gr[j] * pw[j] - xr[j] * c[0]); j += 1 }
                        }
                    }
                    gx = t
                }
                if w.requiresGrad {
                    gw = RowKernels.columnSum(rows: rows, width: d) { r, acc in
                        let gr = pg + r * d, xr = px + r * d
                        let iv = SIMD8<Float>(repeating: pr[r])
                        var j = 0
                        while j + 8 <= d { RowKernels.store(RowKernels.load(acc + j).addingProduct(RowKernels.load(gr + j) * iv, RowKernels.load(xr + j)), acc + j); j += 8 }
                        while j < d { acc[j] += gr[j] * pr[r] * xr[j]; j += 1 }
                    }
                }
            }
            return [gx, gw]
        }
    }

    /// `(x − mean) / sqrt(var + eps) · weight + bias` over the last axis (biased variance, as in
    /// PyTorch); `weight` and `bias` are `[D]` and optional.
    public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
        precondition(dtype == .float32 && rank >= 1, "layerNorm needs a float32 tensor of rank ≥ 1, got \(dtype) \(shape)")
        let d = shape[rank - 1], rows = count / Swift.max(d, 1)
        if let weight { precondition(weight.shape == [d], "layerNorm: weight shape \(weight.shape), expected [\(d)]") }
        if let bias { precondition(bias.shape == [d], "layerNorm: bias shape \(bias.shape), expected [\(d)]") }
        let x = contiguous()
        // x̂ is kept: backward needs it and it costs one activation-sized buffer.
        let xhat = Tensor(uninitializedShape: shape)
        let rstd = Tensor(uninitializedShape: [rows])
        let px = UnsafePointer(x.floatPointer), ph = xhat.floatPointer, pr = rstd.floatPointer
        withExtendedLifetime(x) {
            RowKernels.forRows(rows, width: d) { range in
                for r in range {
                    let xr = px + r * d, hr = ph + r * d
                    let mean = RowKernels.sum(xr, d) / Float(d)
                    var v: Float = 0
                    for j in 0..<d { let c = xr[j] - mean; v += c * c }
                    let inv = 1 / (v / Float(d) + eps).squareRoot()
                    pr[r] = inv
                    for j in 0..<d { hr[j] = (xr[j] - mean) * inv }
                }
            }
        }
        var y = xhat
        var inputs: [Tensor] = [x]
        let w = weight?.contiguous(), b = bias?.contiguous()
        if let w { inputs.append(w) }
        if let b { inputs.append(b) }
        if w != nil || b != nil {
            y = Tensor(uninitializedShape: shape)
            let py = y.floatPointer
            let pw = w.map { UnsafePointer($0.floatPointer) }, pb = b.map { UnsafePointer($0.floatPointer) }
            withExtendedLifetime((w, b)) {
                RowKernels.forRows(rows, width: d) { range in
                    for r in range {
                        for j in 0..<d { py[r * d + j] = ph[r * d + j] * (pw?[j] ?? 1) + (pb?[j] ?? 0) }
                    }
                }
            }
        } else {
            y = xhat.detached()
        }
        return record(y, "layerNorm", inputs) { g in
            let gc = g.isContiguous ? g : g.copy()
            let pg = UnsafePointer(gc.floatPointer), ph = UnsafePointer(xhat.floatPointer), pr = UnsafePointer(rstd.floatPointer)
            let pw = w.map { UnsafePointer($0.floatPointer) }
            var grads: [Tensor?] = []
            withExtendedLifetime((gc, xhat, rstd, w)) {
                var gx: Tensor? = nil
                if x.requiresGrad {
                    let t = Tensor(uninitializedShape: x.shape)
                    let pd = t.floatPointer
                    RowKernels.forRows(rows, width: d) { range in
                        for r in range {
                            let gr = pg + r * d, hr = ph + r * d, dr = pd + r * d
                            var s1: Float = 0, s2: Float = 0
                            for j in 0..<d { let dh = gr[j] * (pw?[j] ?? 1); s1 += dh; s2 += dh * hr[j] }
                            let m1 = s1 / Float(d), m2 = s2 / Float(d), inv = pr[r]
                            for j in 0..<d { dr[j] = inv * (gr[j] * (pw?[j] ?? 1) - m1 - hr[j] * m2) }
                        }
                    }
                    gx = t
                }
                grads.append(gx)
                if let w {
                    grads.append(w.requiresGrad ? RowKernels.columnSum(rows: rows, width: d) { r, acc in
                        for j in 0..<d { acc[j] += pg[r * d + j] * ph[r * d + j] }
                    } : nil)
                }
                if let b {
                    grads.append(b.requiresGrad ? RowKernels.columnSum(rows: rows, width: d) { r, acc in
                        RowKernels.axpy(1, pg + r * d, acc, d)
                    } : nil)
                }
            }
            return grads
        }
    }
}
