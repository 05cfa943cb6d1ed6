/// Arithmetic between tensors with NumPy broadcasting. Backward sums each gradient back over the
/// axes its input was broadcast along, so it has the input's shape.
extension Tensor {
    /// `a + b`, broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        checkFloat(a, b, "+")
        let out = ElementwiseKernels.broadcastBinary(a, b) { $0 + $1 }
        // Flags and shapes, not the tensors: the summands are freed once the forward moves on.
        let sa = a.shape, sb = b.shape, ga = a.requiresGrad, gb = b.requiresGrad
        return record(out, "add", [a, b]) { g in
            [ga ? Broadcast.reduce(g, to: sa) : nil, gb ? Broadcast.reduce(g, to: sb) : nil]
        }
    }

    /// `a - b`, broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        checkFloat(a, b, "-")
        let out = ElementwiseKernels.broadcastBinary(a, b) { $0 - $1 }
        let sa = a.shape, sb = b.shape, ga = a.requiresGrad, gb = b.requiresGrad
        return record(out, "sub", [a, b]) { g in
            [ga ? Broadcast.reduce(g, to: sa) : nil,
             gb ? Broadcast.reduce(ElementwiseKernels.unary(g) { -$0 }, to: sb) : nil]
        }
    }

    /// `a * b` elementwise, broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        checkFloat(a, b, "*")
        let out = ElementwiseKernels.broadcastBinary(a, b) { $0 * $1 }
        return record(out, "mul", [a, b]) { g in
            [a.requiresGrad ? Broadcast.reduce(ElementwiseKernels.broadcastBinary(g, b) { $0 * $1 }, to: a.shape) : nil,
             b.requiresGrad ? Broadcast.reduce(ElementwiseKernels.broadcastBinary(g, a) { $0 * $1 }, to: b.shape) : nil]
        }
    }

    /// `a / b` elementwise, broadcasting.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        checkFloat(a, b, "/")
        let out = ElementwiseKernels.broadcastBinary(a, b) { $0 / $1 }
        let saved = out.detached()   // not `out`: that would be a reference cycle through gradFn
        return record(out, "div", [a, b]) { g in
            let ga = ElementwiseKernels.broadcastBinary(g, b) { $0 / $1 }
            // d(a/b)/db = -(a/b)/b, so gb = -ga · out, reusing the forward result.
            return [a.requiresGrad ? Broadcast.reduce(ga, to: a.shape) : nil,
                    b.requiresGrad ? Broadcast.reduce(ElementwiseKernels.binary(ga, saved) { -$0 * $1 }, to: b.shape) : nil]
        }
    }

    /// `-x`.
    public static prefix func - (x: Tensor) -> Tensor { x.affine(scale: -1, shift: 0) }

    /// `x * scale + shift` in one pass (every scalar op is one of these).
    public func affine(scale: Float, shift: Float) -> Tensor {
        Tensor.checkFloat(self, self, "affine")
        let x = contiguous()
        let s = SIMD8<Float>(repeating: scale), t = SIMD8<Float>(repeating: shift)
        let out = ElementwiseKernels.unary(x) { t.addingProduct($0, s) }
        return record(out, "affine", [x]) { g in [ElementwiseKernels.unary(g) { $0 * s }] }
    }

    public static func + (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func + (s: Float, a: Tensor) -> Tensor { a.affine(scale: 1, shift: s) }
    public static func - (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1, shift: -s) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.affine(scale: -1, shift: s) }
    public static func * (a: Tensor, s: Float) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func * (s: Float, a: Tensor) -> Tensor { a.affine(scale: s, shift: 0) }
    public static func / (a: Tensor, s: Float) -> Tensor { a.affine(scale: 1 / s, shift: 0) }
    /// `s / a` elementwise.
    public static func / (s: Float, a: Tensor) -> Tensor { a.pow(-1) * s }

    static func checkFloat(_ a: Tensor, _ b: Tensor, _ op: String) {
        precondition(a.dtype == .float32 && b.dtype == .float32, "\(op) needs float32 tensors, got \(a.dtype) and \(b.dtype)")
    }
}
