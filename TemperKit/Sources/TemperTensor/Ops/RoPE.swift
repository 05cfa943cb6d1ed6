import Foundation

/// Rotary position embedding in the Llama / Hugging Face "rotate_half" layout: the head dimension
/// is split into halves `x1 = x[..<D/2]`, `x2 = x[D/2...]`, and pair `(x1[i], x2[i])` is rotated by
/// `position · theta^(-2i/D)`.
extension Tensor {
    /// Rotates `self` (`[..., T, D]`, positions along axis -2) for positions
    /// `positionOffset ..< positionOffset + T`; the offset is the KV-cache length when decoding.
    public func rope(theta: Float, positionOffset: Int = 0) -> Tensor {
        Tensor.checkFloat(self, self, "rope")
        precondition(rank >= 2, "rope needs [..., T, D], got \(shape)")
        let t = shape[rank - 2], d = shape[rank - 1]
        precondition(d % 2 == 0, "rope: head dimension \(d) must be even")
        precondition(theta > 0 && positionOffset >= 0, "rope: theta \(theta) must be > 0 and positionOffset \(positionOffset) ≥ 0")
        let table = RoPETable(positions: t, dim: d, theta: theta, offset: positionOffset)
        let x = contiguous()
        let out = RoPETable.rotate(x, table, inverse: false)
        return record(out, "rope", [x]) { g in [RoPETable.rotate(g, table, inverse: true)] }
    }
}

/// cos / sin of every (position, frequency) pair, `[T, D/2]` each.
struct RoPETable {
    let cos: [Float], sin: [Float]
    let positions: Int, half: Int

    init(positions: Int, dim: Int, theta: Float, offset: Int) {
        self.positions = positions
        half = dim / 2
        var c = [Float](repeating: 0, count: positions * half), s = c
        for i in 0..<half {
            let freq = Foundation.pow(Double(theta), -2 * Double(i) / Double(dim))
            for p in 0..<positions {
                let angle = Double(offset + p) * freq
                c[p * half + i] = Float(Foundation.cos(angle))
                s[p * half + i] = Float(Foundation.sin(angle))
            }
        }
        cos = c
        sin = s
    }

    /// Applies the rotation (or its inverse, which is the backward map) to `[..., T, D]`.
    static func rotate(_ src: Tensor, _ table: RoPETable, inverse: Bool) -> Tensor {
        let x = src.isContiguous ? src : src.copy()
        let h = table.half, d = 2 * h, t = table.positions
        let rows = x.count / Swift.max(d, 1)
        let out = Tensor(uninitializedShape: x.shape)
        let px = UnsafePointer(x.floatPointer), po = out.floatPointer
        let sign = SIMD8<Float>(repeating: inverse ? -1 : 1)
        table.cos.withUnsafeBufferPointer { cb in
            table.sin.withUnsafeBufferPointer { sb in
                let pc = cb.baseAddress!, ps = sb.baseAddress!
                withExtendedLifetime(x) {
                    RowKernels.forRows(rows, width: d) { range in
                        for r in range {
                            let x1 = px + r * d, x2 = x1 + h, o1 = po + r * d, o2 = o1 + h
                            let c = pc + (r % t) * h, s = ps + (r % t) * h
                            var i = 0
                            while i + 8 <= h {
                                let a = RowKernels.load(x1 + i), b = RowKernels.load(x2 + i)
                                let cv = RowKernels.load(c + i), sv = RowKernels.load(s + i) * sign
                                RowKernels.store(a * cv - b * sv, o1 + i)
                                RowKernels.store(b * cv + a * sv, o2 + i)
                                i += 8
                            }
                            while i < h {
                                let a = x1[i], b = x2[i], cv = c[i], sv = s[i] * sign[0]
                                o1[i] = a * cv - b * sv
                                o2[i] = b * cv + a * sv
                                i += 1
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
