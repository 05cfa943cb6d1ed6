/// Matrix products on `GEMM.sgemm`. Transposed views (from `transposed()`/`transpose`) are detected
/// from their strides and passed to GEMM as transpose flags, so `x.matmul(w.transposed())` never
/// copies `w`; backward uses the same trick for `dA = dC·Bᵀ` and `dB = Aᵀ·dC`.
extension Tensor {
    /// Batched matrix product: `self` is `[..., M, K]`, `other` is `[..., K, N]`, batch axes
    /// broadcast (NumPy rules). Result `[batch..., M, N]`.
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(dtype == .float32 && other.dtype == .float32, "matmul needs float32 tensors, got \(dtype) and \(other.dtype)")
        precondition(rank >= 2 && other.rank >= 2, "matmul needs rank ≥ 2 operands, got \(shape) and \(other.shape)")
        precondition(shape[rank - 1] == other.shape[other.rank - 2],
                     "matmul: inner dimensions differ: \(shape) · \(other.shape)")
        // A batch of row blocks times one matrix is a single tall GEMM.
        if other.rank == 2 && rank > 2 {
            let k = shape[rank - 1]
            let folded = reshape([-1, k]).matmul(other)
            return folded.reshape(Array(shape.dropLast()) + [other.shape[1]])
        }
        let out = MatMulKernel.product(self, other)
        let a = self, b = other
        return record(out, "matmul", [a, b]) { g in
            // For the profile the right operand is the "weight" (x·W, and LoRA's B·A).
            [a.requiresGrad ? MatMulKernel.gradient(left: g, right: b, into: a, leftOperand: true) : nil,
             b.requiresGrad ? GEMMProfiler.withRole(.weightGradient) { MatMulKernel.gradient(left: a, right: g, into: b, leftOperand: false) } : nil]
        }
    }

    /// A fully connected layer: `self · weightᵀ + bias` with `weight` stored `[out, in]` (the
    /// PyTorch/Hugging Face layout) and `self` `[..., in]`. One GEMM forward, two backward, and no
    /// weight gradient at all when `weight` is frozen.
    public func linear(_ weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 2, "linear: weight must be [out, in], got \(weight.shape)")
        let inF = weight.shape[1], outF = weight.shape[0]
        precondition(rank >= 1 && shape[rank - 1] == inF, "linear: input \(shape) does not end in \(inF) (weight \(weight.shape))")
        if let bias { precondition(bias.shape == [outF], "linear: bias shape \(bias.shape), expected [\(outF)]") }
        let x = contiguous(), w = weight.contiguous()
        let rows = count / max(inF, 1)
        let out = Tensor(uninitializedShape: Array(shape.dropLast()) + [outF])
        withExtendedLifetime((x, w)) {
            GEMM.sgemm(transA: false, transB: true, m: rows, n: outF, k: inF, alpha: 1,
                       a: x.floatPointer, lda: inF, b: w.floatPointer, ldb: inF, beta: 0, c: out.floatPointer, ldc: outF)
        }
        if let bias {
            let bc = bias.contiguous()
            let po = out.floatPointer, pb = UnsafePointer(bc.floatPointer)
            withExtendedLifetime(bc) {
                Parallel.forRanges(rows, grain: max(1, ElementwiseKernels.grain / max(outF, 1))) { r in
                    for i in r {
                        let row = po + i * outF
                        var j = 0
                        while j + 8 <= outF { ElementwiseKernels.store(ElementwiseKernels.load(row + j) + ElementwiseKernels.load(pb + j), row + j); j += 8 }
                        while j < outF { row[j] += pb[j]; j += 1 }
                    }
                }
            }
        }
        let inputs = bias.map { [x, w, $0] } ?? [x, w]
        // Backward keeps x only for the weight's gradient and w only for the input's: a frozen
        // projection (LoRA's base weights) does not hold its input alive until backward.
        let xNeedsGrad = x.requiresGrad, xShape = x.shape
        let savedX: Tensor? = w.requiresGrad ? x : nil, savedW: Tensor? = xNeedsGrad ? w : nil
        let biasNeedsGrad = bias?.requiresGrad ?? false, hasBias = bias != nil
        return record(out, "linear", inputs) { g in
            let gc = g.isContiguous ? g : g.copy()
            var grads: [Tensor?] = []
            withExtendedLifetime(gc) {
                var dx: Tensor? = nil, dw: Tensor? = nil
                if let w = savedW {
                    let t = Tensor(uninitializedShape: xShape)
                    withExtendedLifetime(w) {
                        GEMM.sgemm(transA: false, transB: false, m: rows, n: inF, k: outF, alpha: 1,
                                   a: gc.floatPointer, lda: outF, b: w.floatPointer, ldb: inF, beta: 0, c: t.floatPointer, ldc: inF)
                    }
                    dx = t
                }
                if let x = savedX {
                    let t = Tensor(uninitializedShape: [outF, inF])
                    withExtendedLifetime(x) {
                        GEMMProfiler.withRole(.weightGradient) {
                            GEMM.sgemm(transA: true, transB: false, m: outF, n: inF, k: rows, alpha: 1,
                                       a: gc.floatPointer, lda: outF, b: x.floatPointer, ldb: inF, beta: 0, c: t.floatPointer, ldc: inF)
                        }
                    }
                    dw = t
                }
                grads = [dx, dw]
                if hasBias { grads.append(biasNeedsGrad ? Broadcast.reduce(gc, to: [outF]) : nil) }
            }
            return grads
        }
    }
}

/// The unrecorded GEMM plumbing behind `matmul`.
enum MatMulKernel {
    /// How a strided matrix view maps onto sgemm's (transpose flag, leading dimension), or nil when
    /// neither its rows nor its columns are unit-stride (then it is copied).
    static func layout(rows r: Int, cols c: Int, rowStride sr: Int, colStride sc: Int) -> (trans: Bool, ld: Int)? {
        if (sc == 1 || c == 1) && (r == 1 || sr >= c) { return (false, r == 1 ? max(c, 1) : sr) }
        if (sr == 1 || r == 1) && (c == 1 || sc >= r) { return (true, c == 1 ? max(r, 1) : sc) }
        return nil
    }

    /// A GEMM-compatible version of `t` (itself, or a contiguous copy) and its layout.
    static func operand(_ t: Tensor) -> (Tensor, trans: Bool, ld: Int) {
        let r = t.shape[t.rank - 2], c = t.shape[t.rank - 1]
        if let l = layout(rows: r, cols: c, rowStride: t.strides[t.rank - 2], colStride: t.strides[t.rank - 1]) {
            return (t, l.trans, l.ld)
        }
        let copy = t.copy()
        return (copy, false, max(c, 1))
    }

    /// `a · b` with broadcast batch axes, into a new contiguous tensor (not recorded).
    static func product(_ a: Tensor, _ b: Tensor) -> Tensor {
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
        let batch = Broadcast.shape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)))
        let out = Tensor(uninitializedShape: batch + [m, n])
        if out.count == 0 { return out }
        if k == 0 { memsetZero(out); return out }
        let (ao, ta, lda) = operand(a), (bo, tb, ldb) = operand(b)
        let batchA = Tensor(storage: ao.storage, shape: Array(ao.shape.dropLast(2)), strides: Array(ao.strides.dropLast(2)), offset: ao.offset)
        let batchB = Tensor(storage: bo.storage, shape: Array(bo.shape.dropLast(2)), strides: Array(bo.strides.dropLast(2)), offset: bo.offset)
        let sa = Broadcast.strides(of: batchA, to: batch), sb = Broadcast.strides(of: batchB, to: batch)
        let nb = batch.reduce(1, *)
        withExtendedLifetime((ao, bo)) {
            let pa = UnsafePointer(ao.floatPointer), pb = UnsafePointer(bo.floatPointer), pc = out.floatPointer
            for i in 0..<nb {
                var rem = i, oa = 0, ob = 0
                for d in stride(from: batch.count - 1, through: 0, by: -1) {
                    let q = rem % batch[d]; rem /= batch[d]; oa += q * sa[d]; ob += q * sb[d]
                }
                GEMM.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1, a: pa + oa, lda: lda,
                           b: pb + ob, ldb: ldb, beta: 0, c: pc + i * m * n, ldc: n)
            }
        }
        return out
    }

    /// The gradient for one operand of `C = A·B`: `dA = dC·Bᵀ` (`leftOperand`, called with
    /// left = dC, right = B) or `dB = Aᵀ·dC` (called with left = A, right = dC), summed over
    /// broadcast batch axes. When the operand is itself a transposed view its gradient is computed
    /// in the operand's storage order and returned as the matching transposed view, so the
    /// transpose's backward hands a contiguous gradient to the parameter.
    static func gradient(left: Tensor, right: Tensor, into operand: Tensor, leftOperand: Bool) -> Tensor {
        let r = operand.rank
        let storedTransposed = r >= 2 && operand.strides[r - 1] != 1 && operand.strides[r - 2] == 1 && operand.shape[r - 1] > 1
        if storedTransposed {
            // (dA)ᵀ = B·dCᵀ ; (dB)ᵀ = dCᵀ·A
            let t = leftOperand ? product(right, left.transpose(-2, -1)) : product(right.transpose(-2, -1), left)
            let storedShape = Array(operand.shape.dropLast(2)) + [operand.shape[r - 1], operand.shape[r - 2]]
            return Broadcast.reduce(t, to: storedShape).transpose(-2, -1)
        }
        let t = leftOperand ? product(left, right.transpose(-2, -1)) : product(left.transpose(-2, -1), right)
        return Broadcast.reduce(t, to: operand.shape)
    }

    static func memsetZero(_ t: Tensor) {
        t.floatPointer.update(repeating: 0, count: t.count)
    }
}
