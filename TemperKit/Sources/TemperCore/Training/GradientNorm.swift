import Foundation

/// The global gradient norm over every trainable tensor, and clipping to a maximum, as
/// `torch.nn.utils.clip_grad_norm_` does it.
public enum GradientNorm {
    /// √(Σ g²) over all gradients (accumulated in Double); NaN or ∞ if any element is.
    public static func global(_ parameters: [NamedParameter]) -> Double {
        var total = 0.0
        for p in parameters {
            guard let g = p.tensor.grad else { continue }
            let c = g.contiguous()
            let n = c.count
            total += withExtendedLifetime(c) {
                let ptr = UnsafePointer(c.floatPointer)
                // Per-chunk Float sums bound the cost; chunks are summed in Double to keep precision.
                var sum = 0.0
                var i = 0
                while i < n {
                    let end = min(n, i + 4096)
                    var acc = SIMD8<Float>()
                    var j = i
                    while j + 8 <= end {
                        let v = UnsafeRawPointer(ptr + j).loadUnaligned(as: SIMD8<Float>.self)
                        acc += v * v
                        j += 8
                    }
                    var partial = Double(acc.sum())
                    while j < end { partial += Double(ptr[j] * ptr[j]); j += 1 }
                    sum += partial
                    i = end
                }
                return sum
            }
        }
        return total.squareRoot()
    }

    /// Scales every gradient by `maxNorm / (norm + 1e-6)` when `norm` exceeds `maxNorm` (PyTorch's
    /// coefficient, capped at 1). Returns the coefficient applied.
    @discardableResult
    public static func clip(_ parameters: [NamedParameter], norm: Double, maxNorm: Double) -> Float {
        let coefficient = Float(min(1, maxNorm / (norm + 1e-6)))
        guard coefficient < 1 else { return 1 }
        for p in parameters {
            guard let g = p.tensor.grad else { continue }
            let c = g.isContiguous ? g : g.copy()
            let n = c.count
            withExtendedLifetime(c) {
                let ptr = c.floatPointer
                for i in 0..<n { ptr[i] *= coefficient }
            }
            p.tensor.grad = c
        }
        return coefficient
    }
}
