import CTemperSupport
import Foundation

/// Products with a frozen `QuantizedMatrix` W `[n, k]`: `Y = X · Wᵀ` (forward) and `dX = dY · W`
/// (the input gradient; a frozen weight needs no gradient of its own).
///
/// - A few rows of X (decode, up to `fusedRowLimit`) against Q8_0 / Q4_0 / Q4_1 / Q5_0 / Q5_1 /
///   Q4_K run fused, each weight row's blocks read straight from the file's bytes: with
///   `quantizesActivations`, X is quantized to int8 per 32-block (llama.cpp's Q8 activations) and
///   the blocks multiplied in integers; otherwise (Q8_0 / Q4_0 / Q4_1) each block's codes are
///   converted to float and multiplied into X.
/// - Everything else (prefill, training, Q5_K, Q6_K, the other formats with float activations,
///   and every backward product)
///   decodes W a panel of rows at a time into a float buffer that stays in cache, and hands the
///   panel to the float GEMM, whose packing and micro-kernel do the arithmetic. W is never
///   expanded whole.
public enum QuantizedProduct {
    /// Rows of X up to which the fused integer kernel runs.
    public static let fusedRowLimit = 16
    /// Whether the fused kernel quantizes activations to int8 (llama.cpp's way) or keeps them float.
    /// Float is the default: int8 activations move SmolLM2's logits by up to 0.6 and change greedy
    /// continuations inside their stable prefix, for a speed gain `temper-bench generate
    /// --keep-quantized` measures (README). `TEMPER_QUANT_ACTIVATIONS=int8` turns it on.
    public nonisolated(unsafe) static var quantizesActivations =
        ProcessInfo.processInfo.environment["TEMPER_QUANT_ACTIVATIONS"]?.lowercased() == "int8"

    /// Weight rows decoded at once: about 1 MiB of floats, so a panel stays in L2/L3 while the
    /// GEMM reads it.
    static func panelRows(_ k: Int) -> Int { max(16, (1 << 18) / max(k, 1)) }

    /// `y[m, n] = x[m, k] · Wᵀ` for contiguous row-major `x` and `y`.
    public static func forward(_ x: UnsafePointer<Float>, rows m: Int, weight w: QuantizedMatrix, into y: UnsafeMutablePointer<Float>) {
        if m <= fusedRowLimit, let code = w.format.integerDotCode, quantizesActivations || w.format.hasFloatDot {
            if quantizesActivations {
                fused(x, rows: m, weight: w, code: code, into: y)
            } else {
                let path = QuantizedDotPath.active.code, n = w.rows, k = w.columns
                let bytes = w.base.assumingMemoryBound(to: UInt8.self)
                // Whole groups of the kernel's eight rows, as in `fused`: a chunk edge inside a group
                // would sum that row in the single-row order, so the bits would follow the thread count.
                let group = 8
                Parallel.forRanges((n + group - 1) / group, grain: 4) { g in
                    let row = UnsafeMutablePointer<Float>.allocate(capacity: k)
                    defer { row.deallocate() }
                    temper_qdot_rows_float(code, path, bytes, w.rowBytes, g.lowerBound * group, min(n, g.upperBound * group), k, x, m, y, n, row)
                }
            }
            return
        }
        let k = w.columns, n = w.rows
        forEachDecodedPanel(of: w) { n0, nb, panel in
            GEMM.sgemm(transA: false, transB: true, m: m, n: nb, k: k, alpha: 1, a: x, lda: k,
                       b: panel, ldb: k, beta: 0, c: y + n0, ldc: n)
        }
    }

    /// `dx[m, k] = dy[m, n] · W` for contiguous row-major `dy` and `dx`: each panel of W's rows adds
    /// its part, `dy[:, panel] · W[panel, :]`.
    public static func inputGradient(_ dy: UnsafePointer<Float>, rows m: Int, weight w: QuantizedMatrix, into dx: UnsafeMutablePointer<Float>) {
        let k = w.columns, n = w.rows
        forEachDecodedPanel(of: w) { n0, nb, panel in
            GEMM.sgemm(transA: false, transB: false, m: m, n: k, k: nb, alpha: 1, a: dy + n0, lda: n,
                       b: panel, ldb: k, beta: n0 == 0 ? 0 : 1, c: dx, ldc: k)
        }
    }

    /// Decodes W a panel of rows at a time into one reused float buffer and hands each to `body`
    /// (first row, row count, the panel `[rows, columns]`): the float GEMM then does the math.
    private static func forEachDecodedPanel(of w: QuantizedMatrix, _ body: (Int, Int, UnsafePointer<Float>) -> Void) {
        let k = w.columns, n = w.rows, p = panelRows(k)
        let panel = UnsafeMutablePointer<Float>.allocate(capacity: min(p, n) * k)
        defer { panel.deallocate() }
        for n0 in stride(from: 0, to: n, by: p) {
            let nb = min(p, n - n0)
            decodePanel(w, n0..<(n0 + nb), into: panel)
            body(n0, nb, panel)
        }
    }

    private static func decodePanel(_ w: QuantizedMatrix, _ rows: Range<Int>, into panel: UnsafeMutablePointer<Float>) {
        let k = w.columns
        Parallel.forRanges(rows.count, grain: max(1, (1 << 14) / k)) { r in
            w.dequantizeRows((rows.lowerBound + r.lowerBound)..<(rows.lowerBound + r.upperBound), into: panel + r.lowerBound * k)
        }
    }

    private static func fused(_ x: UnsafePointer<Float>, rows m: Int, weight w: QuantizedMatrix, code: Int32, into y: UnsafeMutablePointer<Float>) {
        let k = w.columns, blocks = k / 32
        let xq = UnsafeMutablePointer<Int8>.allocate(capacity: m * k)
        let xd = UnsafeMutablePointer<Float>.allocate(capacity: m * blocks)
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: m * blocks)
        defer { xq.deallocate(); xd.deallocate(); xs.deallocate() }
        for i in 0..<m { temper_q8_quantize_activations(x + i * k, k, xq + i * k, xd + i * blocks, xs + i * blocks) }
        let path = QuantizedDotPath.active.code, n = w.rows
        let bytes = w.base.assumingMemoryBound(to: UInt8.self)
        // Chunks of whole groups of the kernel's eight rows (so no chunk edge falls back to the
        // single-row loop), at least 32 rows each: enough work per thread to pay for waking it.
        let group = 8
        Parallel.forRanges((n + group - 1) / group, grain: 4) { g in
            temper_qdot_rows(code, path, bytes, w.rowBytes, g.lowerBound * group, min(n, g.upperBound * group), k, xq, xd, xs, m, y, n)
        }
    }
}

extension Tensor {
    /// `self · Wᵀ + bias` with a frozen quantized W (`[..., in]` → `[..., out]`). Gradients reach
    /// `self` and `bias`; W has none (it is frozen: QLoRA trains adapters beside it).
    public func linear(_ weight: QuantizedMatrix, bias: Tensor? = nil) -> Tensor {
        let inF = weight.columns, outF = weight.rows
        precondition(rank >= 1 && shape[rank - 1] == inF, "linear: input \(shape) does not end in \(inF) (quantized weight [\(outF), \(inF)])")
        let x = contiguous()
        let rows = count / max(inF, 1)
        let out = Tensor(uninitializedShape: Array(shape.dropLast()) + [outF])
        withExtendedLifetime(x) {
            QuantizedProduct.forward(x.floatPointer, rows: rows, weight: weight, into: out.floatPointer)
        }
        let y = record(out, "linear_quantized", [x]) { g in
            let gc = g.isContiguous ? g : g.copy()
            let dx = Tensor(uninitializedShape: x.shape)
            withExtendedLifetime(gc) {
                QuantizedProduct.inputGradient(gc.floatPointer, rows: rows, weight: weight, into: dx.floatPointer)
            }
            return [dx]
        }
        return bias.map { y + $0 } ?? y
    }
}
