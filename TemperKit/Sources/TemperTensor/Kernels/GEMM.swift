/// Single-precision matrix multiply, row-major: `C = alpha * op(A) * op(B) + beta * C`.
///
/// `op(A)` is `m × k`: A itself (`lda ≥ k`) or, with `transA`, the transpose of a stored `k × m`
/// matrix (`lda ≥ m`). Likewise `op(B)` is `k × n`. Transposes are handled by the packing
/// routines, never materialised.
public enum GEMM {
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        // Reference implementation; replaced by the packed SIMD kernel.
        for i in 0..<m {
            for j in 0..<n {
                var acc: Float = 0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += av * bv
                }
                c[i * ldc + j] = alpha * acc + (beta == 0 ? 0 : beta * c[i * ldc + j])
            }
        }
    }
}
