import TemperCore

/// The leading singular triplets of a matrix, for PiSSA's initialisation, computed in Double.
///
/// Randomised subspace iteration (Halko, Martinsson & Tropp 2011): a Gaussian sketch of
/// `rank + oversampling` columns is pushed through `powerIterations` rounds of `A·Aᵀ` with
/// re-orthonormalisation, then the small projected matrix `QᵀA` is decomposed exactly by one-sided
/// Jacobi rotations. When the sketch is at least `min(rows, cols)` wide the subspace is the whole
/// range and the result is the exact SVD; otherwise accuracy grows with the iterations and the gap
/// after the `rank`-th singular value (PEFT's `pissa_niter_N` makes the same trade).
struct LowRankSVD {
    /// Left singular vectors, row-major `[rows, rank]`.
    let u: [Double]
    /// Singular values, largest first.
    let s: [Double]
    /// Right singular vectors as rows, row-major `[rank, cols]`.
    let vt: [Double]

    /// Decomposes the row-major `[rows, cols]` matrix `a`.
    init(_ a: [Double], rows m: Int, cols n: Int, rank k: Int, oversampling: Int = 8, powerIterations: Int, seed: UInt64) {
        precondition(a.count == m * n && k >= 1 && k <= min(m, n))
        let l = min(k + oversampling, min(m, n))
        var rng = PhiloxRNG(seed: seed)
        let omega = (0..<(n * l)).map { _ in Double(rng.nextNormal()) }
        var q = Self.orthonormalColumns(Self.multiply(a, omega, m, n, l), rows: m, cols: l)
        for _ in 0..<powerIterations {
            let z = Self.orthonormalColumns(Self.multiplyTransposed(a, q, m, n, l), rows: n, cols: l)
            q = Self.orthonormalColumns(Self.multiply(a, z, m, n, l), rows: m, cols: l)
        }
        // B = QᵀA, [l, n]; its rows are rotated until mutually orthogonal (one-sided Jacobi on Bᵀ).
        var b = [Double](repeating: 0, count: l * n)
        for i in 0..<m {
            for j in 0..<l where q[i * l + j] != 0 {
                let qij = q[i * l + j]
                for c in 0..<n { b[j * n + c] += qij * a[i * n + c] }
            }
        }
        var rot = [Double](repeating: 0, count: l * l)
        for i in 0..<l { rot[i * l + i] = 1 }
        Self.jacobi(&b, &rot, l: l, n: n)
        let norms = (0..<l).map { j in (0..<n).reduce(0.0) { $0 + b[j * n + $1] * b[j * n + $1] }.squareRoot() }
        let order = (0..<l).sorted { norms[$0] > norms[$1] }.prefix(k)
        var u = [Double](repeating: 0, count: m * k), vt = [Double](repeating: 0, count: k * n)
        for (t, j) in order.enumerated() {
            let sigma = norms[j]
            if sigma > 0 { for c in 0..<n { vt[t * n + c] = b[j * n + c] / sigma } }
            // A ≈ Q·B = Q·rot·Σ·Vᵀ, so the left vectors are the columns of Q·rot.
            for i in 0..<m {
                var acc = 0.0
                for p in 0..<l { acc += q[i * l + p] * rot[p * l + j] }
                u[i * k + t] = acc
            }
        }
        self.u = u
        self.s = order.map { norms[$0] }
        self.vt = vt
    }

    /// `A·X` for `A` `[m, n]` and `X` `[n, l]`.
    private static func multiply(_ a: [Double], _ x: [Double], _ m: Int, _ n: Int, _ l: Int) -> [Double] {
        var out = [Double](repeating: 0, count: m * l)
        for i in 0..<m {
            for c in 0..<n {
                let aic = a[i * n + c]
                if aic == 0 { continue }
                for j in 0..<l { out[i * l + j] += aic * x[c * l + j] }
            }
        }
        return out
    }

    /// `Aᵀ·Y` for `A` `[m, n]` and `Y` `[m, l]`.
    private static func multiplyTransposed(_ a: [Double], _ y: [Double], _ m: Int, _ n: Int, _ l: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n * l)
        for i in 0..<m {
            for c in 0..<n {
                let aic = a[i * n + c]
                if aic == 0 { continue }
                for j in 0..<l { out[c * l + j] += aic * y[i * l + j] }
            }
        }
        return out
    }

    /// Modified Gram–Schmidt, twice (one pass loses orthogonality when columns are nearly
    /// dependent); a column with nothing left after projection becomes zero.
    private static func orthonormalColumns(_ x: [Double], rows: Int, cols: Int) -> [Double] {
        var x = x
        let scale = x.reduce(0.0) { max($0, abs($1)) }
        for j in 0..<cols {
            for _ in 0..<2 {
                for p in 0..<j {
                    var dot = 0.0
                    for i in 0..<rows { dot += x[i * cols + p] * x[i * cols + j] }
                    for i in 0..<rows { x[i * cols + j] -= dot * x[i * cols + p] }
                }
            }
            var norm = 0.0
            for i in 0..<rows { norm += x[i * cols + j] * x[i * cols + j] }
            norm = norm.squareRoot()
            let keep = norm > 1e-12 * max(scale, 1e-300)
            for i in 0..<rows { x[i * cols + j] = keep ? x[i * cols + j] / norm : 0 }
        }
        return x
    }

    /// Rotates pairs of rows of `b` (`[l, n]`) until all are orthogonal, applying each rotation
    /// to the columns of `rot` (`[l, l]`) too.
    private static func jacobi(_ b: inout [Double], _ rot: inout [Double], l: Int, n: Int) {
        for _ in 0..<60 {
            var rotated = false
            for i in 0..<l {
                for j in (i + 1)..<l {
                    var alpha = 0.0, beta = 0.0, gamma = 0.0
                    for c in 0..<n {
                        let x = b[i * n + c], y = b[j * n + c]
                        alpha += x * x; beta += y * y; gamma += x * y
                    }
                    if gamma == 0 || abs(gamma) <= 1e-15 * (alpha * beta).squareRoot() { continue }
                    rotated = true
                    let zeta = (beta - alpha) / (2 * gamma)
                    let t = (zeta >= 0 ? 1.0 : -1.0) / (abs(zeta) + (1 + zeta * zeta).squareRoot())
                    let c = 1 / (1 + t * t).squareRoot(), s = c * t
                    for k in 0..<n {
                        let x = b[i * n + k], y = b[j * n + k]
                        b[i * n + k] = c * x - s * y
                        b[j * n + k] = s * x + c * y
                    }
                    for k in 0..<l {
                        let x = rot[k * l + i], y = rot[k * l + j]
                        rot[k * l + i] = c * x - s * y
                        rot[k * l + j] = s * x + c * y
                    }
                }
            }
            if !rotated { return }
        }
    }
}
