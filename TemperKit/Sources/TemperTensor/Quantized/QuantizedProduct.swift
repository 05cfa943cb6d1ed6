import CTemperSupport
import Foundation

/// Products with a frozen `QuantizedMatrix` W `[n, k]`: `Y = X · Wᵀ` (forward) and `dX = dY · W`
/// (the input gradient; a frozen weight needs no gradient of its own).
///
/// - A few rows of X (decode, up to `fusedRowLimit`) run fused, each weight row's blocks read
///   straight from the file's bytes: with `quantizesActivations`, X is quantized to int8 per
///   32-block (llama.cpp's Q8 activations) and the blocks of any format multiplied in integers;
///   otherwise (Q8_0 / Q4_0 / Q4_1) each block's codes are converted to float and multiplied into X.
/// - Everything else (prefill, training, the other formats with float activations, and every
///   backward product)
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
        if fuses(m, [w]) {
            fusedShared(x, rows: m, weights: [w], into: [y])
            return
        }
        let k = w.columns, n = w.rows
        forEachDecodedPanel(of: w) { n0, nb, panel in
            GEMM.sgemm(transA: false, transB: true, m: m, n: nb, k: k, alpha: 1, a: x, lda: k,
                       b: panel, ldb: k, beta: 0, c: y + n0, ldc: n)
        }
    }

    /// `yᵢ[m, nᵢ] = x[m, k] · Wᵢᵀ` for weights that share their input (q/k/v, gate/up): the values of
    /// separate `forward` calls, bit for bit. In a decode step x is quantized once for all of them
    /// and the products share one pass over the worker threads, so a layer pays one fork/join
    /// per input rather than one per weight.
    public static func forward(_ x: UnsafePointer<Float>, rows m: Int, weights: [QuantizedMatrix], into ys: [UnsafeMutablePointer<Float>]) {
        precondition(!weights.isEmpty && weights.count == ys.count && weights.allSatisfy { $0.columns == weights[0].columns },
                     "QuantizedProduct.forward: one output per weight, at least one weight, all with the same input width")
        if fuses(m, weights) {
            fusedShared(x, rows: m, weights: weights, into: ys)
        } else {
            for (w, y) in zip(weights, ys) { forward(x, rows: m, weight: w, into: y) }
        }
    }

    /// Whether `m` rows against `weights` take the fused kernels: few rows, and a format the active
    /// activation mode multiplies straight from blocks.
    private static func fuses(_ m: Int, _ weights: [QuantizedMatrix]) -> Bool {
        m <= fusedRowLimit && weights.allSatisfy { quantizesActivations || $0.format.hasFloatDot }
    }

    /// The fused products of `weights` with x. Rows are handed to the threads in whole groups of the
    /// kernels' eight (counted per weight, so each weight's groups are those of a product on its
    /// own): a chunk edge inside a group would sum that row in the single-row order, and the bits
    /// would follow the thread count.
    private static func fusedShared(_ x: UnsafePointer<Float>, rows m: Int, weights: [QuantizedMatrix], into ys: [UnsafeMutablePointer<Float>]) {
        let k = weights[0].columns, blocks = k / 32, group = 8
        let path = QuantizedDotPath.active.code, int8 = quantizesActivations
        var firstGroup = [0]
        for w in weights { firstGroup.append(firstGroup[firstGroup.count - 1] + (w.rows + group - 1) / group) }
        let xq = UnsafeMutablePointer<Int8>.allocate(capacity: int8 ? m * k : 0)
        let xd = UnsafeMutablePointer<Float>.allocate(capacity: int8 ? m * blocks : 0)
        let xs = UnsafeMutablePointer<Float>.allocate(capacity: int8 ? m * blocks : 0)
        defer { xq.deallocate(); xd.deallocate(); xs.deallocate() }
        if int8 {
            for i in 0..<m { temper_q8_quantize_activations(x + i * k, k, xq + i * k, xd + i * blocks, xs + i * blocks) }
        }
        // At least four groups (32 rows) per chunk: enough work per thread to pay for waking it.
        Parallel.forRanges(firstGroup[weights.count], grain: 4) { g in
            let row = UnsafeMutablePointer<Float>.allocate(capacity: int8 ? 0 : k)
            defer { row.deallocate() }
            for (i, w) in weights.enumerated() where firstGroup[i] < g.upperBound && g.lowerBound < firstGroup[i + 1] {
                let r0 = (max(g.lowerBound, firstGroup[i]) - firstGroup[i]) * group
                let r1 = min(w.rows, (min(g.upperBound, firstGroup[i + 1]) - firstGroup[i]) * group)
                let bytes = w.base.assumingMemoryBound(to: UInt8.self), code = w.format.integerDotCode
                if int8 {
                    temper_qdot_rows(code, path, bytes, w.rowBytes, r0, r1, k, xq, xd, xs, m, ys[i], w.rows)
                } else {
                    temper_qdot_rows_float(code, path, bytes, w.rowBytes, r0, r1, k, x, m, ys[i], w.rows, row)
                }
            }
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

    /// `self · Wᵢᵀ` for each of the frozen quantized `weights` (`[outᵢ, in]`), `self` `[..., in]`:
    /// the same results as `weights.map { linear($0) }`, bit for bit, from one shared pass
    /// (`QuantizedProduct.forward(_:rows:weights:into:)`) while gradients are off; with gradients on
    /// each is an ordinary recorded `linear`.
    public func linears(_ weights: [QuantizedMatrix]) -> [Tensor] {
        let inF = shape.last ?? 0
        guard !GradMode.isEnabled, dtype == .float32, weights.allSatisfy({ $0.columns == inF }) else {
            return weights.map { linear($0) }
        }
        let x = contiguous()
        let outs = weights.map { Tensor(uninitializedShape: Array(shape.dropLast()) + [$0.rows]) }
        withExtendedLifetime((x, outs)) {
            QuantizedProduct.forward(x.floatPointer, rows: count / max(inF, 1), weights: weights, into: outs.map(\.floatPointer))
        }
        return outs
    }
}
