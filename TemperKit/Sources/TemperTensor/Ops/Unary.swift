import Foundation

/// Elementwise functions of one tensor. Each reads a contiguous input once with SIMD8 and records a
/// backward that needs at most the input and output.
extension Tensor {
    /// Builds a unary op: `forward` per SIMD lane group, and `derivative(x, y)` = dy/dx.
    @inline(__always)
    func unaryOp(_ name: String, _ forward: (SIMD8<Float>) -> SIMD8<Float>,
                 derivative: @escaping (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
        Tensor.checkFloat(self, self, name)
        let x = contiguous()
        let y = ElementwiseKernels.unary(x, forward)
        // A detached alias: capturing `y` itself would make y → gradFn → closure → y a cycle that
        // leaks whenever backward is never called.
        let saved = y.detached()
        return record(y, name, [x]) { g in
            [ElementwiseKernels.ternary(g, x, saved) { g, x, y in g * derivative(x, y) }]
        }
    }

    /// Scalar fallback for functions without a SIMD form (libm per lane).
    @inline(__always)
    static func lanes(_ v: SIMD8<Float>, _ f: (Float) -> Float) -> SIMD8<Float> {
        var r = v
        for i in 0..<8 { r[i] = f(v[i]) }
        return r
    }

    /// e^x.
    public func exp() -> Tensor { unaryOp("exp", SIMDMath.exp) { _, y in y } }

    /// Natural logarithm.
    public func log() -> Tensor { unaryOp("log", { Tensor.lanes($0, Foundation.logf) }) { x, _ in 1 / x } }

    /// Square root.
    public func sqrt() -> Tensor { unaryOp("sqrt", { $0.squareRoot() }) { _, y in 0.5 / y } }

    /// 1 / √x.
    public func rsqrt() -> Tensor { unaryOp("rsqrt", { 1 / $0.squareRoot() }) { x, y in -0.5 * y / x } }

    /// Hyperbolic tangent.
    public func tanh() -> Tensor { unaryOp("tanh", SIMDMath.tanh) { _, y in 1 - y * y } }

    /// Logistic sigmoid 1 / (1 + e^-x).
    public func sigmoid() -> Tensor { unaryOp("sigmoid", SIMDMath.sigmoid) { _, y in y * (1 - y) } }

    /// log σ(x) = -softplus(-x), computed without overflow for large |x|.
    public func logSigmoid() -> Tensor {
        unaryOp("logSigmoid", { x in
            let negPart = x.replacing(with: 0, where: x .> 0)               // min(x, 0)
            let ax = x.replacing(with: -x, where: x .< 0)
            return negPart - Tensor.lanes(SIMDMath.exp(-ax), Foundation.log1pf)
        }) { x, _ in SIMDMath.sigmoid(-x) }
    }

    /// softplus(x) = log(1 + e^x), stable for large |x|.
    public func softplus() -> Tensor {
        unaryOp("softplus", { x in
            let posPart = x.replacing(with: 0, where: x .< 0)
            let ax = x.replacing(with: -x, where: x .< 0)
            return posPart + Tensor.lanes(SIMDMath.exp(-ax), Foundation.log1pf)
        }) { x, _ in SIMDMath.sigmoid(x) }
    }

    /// SiLU (swish): x · σ(x), the Llama MLP activation.
    public func silu() -> Tensor {
        unaryOp("silu", { $0 * SIMDMath.sigmoid($0) }) { x, _ in
            let s = SIMDMath.sigmoid(x)
            return s * (1 + x * (1 - s))
        }
    }

    /// GELU: exact `x·Φ(x)` with erf, or the tanh approximation used by GPT-2 (`approximate`).
    public func gelu(approximate: Bool = false) -> Tensor {
        if approximate {
            let c = SIMD8<Float>(repeating: 0.797_884_56), k = SIMD8<Float>(repeating: 0.044_715)
            return unaryOp("gelu_tanh", { x in
                let x3 = x * x * x
                let t = SIMDMath.tanh(c * x.addingProduct(k, x3))
                return 0.5 * x * (1 + t)
            }) { x, _ in
                let x2 = x * x
                let t = SIMDMath.tanh(c * x.addingProduct(k, x2 * x))
                let du = c * (1 + 3 * k * x2)
                let half = SIMD8<Float>(repeating: 0.5)
                return half * (1 + t) + half * x * (1 - t * t) * du
            }
        }
        return unaryOp("gelu", { x in
            0.5 * x * (1 + Tensor.lanes(x * 0.707_106_78, Foundation.erff))
        }) { x, _ in
            let cdf = 0.5 * (1 + Tensor.lanes(x * 0.707_106_78, Foundation.erff))
            return cdf + x * 0.398_942_28 * SIMDMath.exp(-0.5 * x * x)
        }
    }

    /// x^p for a scalar exponent (NaN for negative x and fractional p, as in libm).
    public func pow(_ p: Float) -> Tensor {
        if p == 2 { return unaryOp("pow", { $0 * $0 }) { x, _ in 2 * x } }
        return unaryOp("pow", { Tensor.lanes($0) { Foundation.powf($0, p) } }) { x, _ in
            p * Tensor.lanes(x) { Foundation.powf($0, p - 1) }
        }
    }

    /// |x|; the gradient at 0 is 0.
    public func abs() -> Tensor {
        unaryOp("abs", { $0.replacing(with: -$0, where: $0 .< 0) }) { x, _ in
            SIMD8<Float>(repeating: 0).replacing(with: 1, where: x .> 0).replacing(with: -1, where: x .< 0)
        }
    }

    /// Limits every element to `[min, max]` (either bound optional); gradient passes only where
    /// the input lies inside the bounds (inclusive).
    public func clamp(min lo: Float = -.infinity, max hi: Float = .infinity) -> Tensor {
        precondition(lo <= hi, "clamp: min \(lo) > max \(hi)")
        let l = SIMD8<Float>(repeating: lo), h = SIMD8<Float>(repeating: hi)
        return unaryOp("clamp", { SIMDMath.clamp($0, lo, hi) }) { x, _ in
            SIMD8<Float>(repeating: 0).replacing(with: 1, where: (x .>= l) .& (x .<= h))
        }
    }
}
