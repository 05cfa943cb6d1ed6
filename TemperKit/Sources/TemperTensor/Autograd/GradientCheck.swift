/// Compares autograd's gradients with central finite differences, over every element of every
/// input. It lives in the runtime, free of XCTest, so that TemperKit's own tests and the
/// `TemperTestSupport` package (for plugin tests) wrap ONE checker in their assertions.
///
/// The scalar that is differentiated is `Σ f(x)·R`, with `R` a fixed pseudo-random projection, so
/// every output element contributes with a different weight and a gradient that mixes up output
/// positions cannot cancel out.
public enum GradientCheck {
    /// The worst disagreement between the analytic and the numeric gradient of one input.
    public struct Worst: Equatable, CustomStringConvertible, Sendable {
        /// Position of the input in the list given to `worst(_:eps:rtol:atol:_:)`.
        public var input: Int
        /// Row-major index of the element inside that input.
        public var element: Int
        /// The gradient from `backward()`.
        public var analytic: Double
        /// `(L(x+ε) − L(x−ε)) / 2ε`.
        public var numeric: Double
        /// `|analytic − numeric| / (atol·scale + rtol·|numeric|)`, where `scale` is the largest
        /// numeric magnitude of the input (at least 1): at most 1 is within tolerance.
        public var error: Double

        /// Whether the disagreement is within the tolerance the check was run with.
        public var withinTolerance: Bool { error <= 1 }

        /// What a failing assertion prints.
        public var description: String {
            "input \(input) element \(element): analytic \(analytic) vs numeric \(numeric) (\(error) × the tolerance)"
        }
    }

    /// An input or output the check cannot work with; the message says which and why.
    public struct UsageError: Error, Equatable, CustomStringConvertible, Sendable {
        /// The explanation.
        public let description: String
    }

    /// The worst element of each input (one entry per input, in order).
    ///
    /// `inputs` must be contiguous float32 leaves that require grad; `f` recomputes the output
    /// from them and is called `2·count + 1` times per input, so keep tensors small. Inputs are
    /// perturbed in place and restored before this returns.
    public static func worst(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Double = 1e-2, atol: Double = 1e-3,
                             _ f: ([Tensor]) throws -> Tensor) throws -> [Worst] {
        for (k, t) in inputs.enumerated() where !(t.dtype == .float32 && t.isContiguous && t.requiresGrad) {
            throw UsageError(description: "input \(k) (shape \(t.shape), \(t.dtype)) must be a contiguous float32 tensor that requires grad")
        }
        for t in inputs { t.zeroGrad() }
        let out = try f(inputs)
        guard out.dtype == .float32, out.requiresGrad else {
            throw UsageError(description: "the output (shape \(out.shape)) does not depend on any input through autograd")
        }
        var rng = PhiloxRNG(seed: 7)
        let projection = (0..<out.count).map { _ in rng.nextUniform() * 2 - 1 }
        (out * Tensor(shape: out.shape, scalars: projection)).sum().backward()

        return try inputs.enumerated().map { k, t in
            guard let grad = t.grad else { throw UsageError(description: "input \(k) got no gradient from backward()") }
            guard grad.shape == t.shape else {
                throw UsageError(description: "input \(k) has shape \(t.shape) but its gradient has shape \(grad.shape)")
            }
            let analytic = grad.scalars
            let numeric = try numericGradient(of: t, inputs: inputs, eps: eps, projection: projection, f)
            let scale = max(1, numeric.map { abs($0) }.max() ?? 0)
            var worst = Worst(input: k, element: 0, analytic: 0, numeric: 0, error: -1)
            for i in 0..<t.count {
                let error = abs(Double(analytic[i]) - numeric[i]) / (atol * scale + rtol * abs(numeric[i]))
                // `!(error <= worst)` also catches NaN, which must never pass.
                if !(error <= worst.error) {
                    worst = Worst(input: k, element: i, analytic: Double(analytic[i]), numeric: numeric[i], error: error)
                    if error.isNaN { break }
                }
            }
            return worst
        }
    }

    /// Central differences of the projected loss for each element of `t`.
    private static func numericGradient(of t: Tensor, inputs: [Tensor], eps: Float, projection: [Float],
                                        _ f: ([Tensor]) throws -> Tensor) throws -> [Double] {
        func loss() throws -> Double {
            let v = try f(inputs).scalars
            guard v.count == projection.count else {
                throw UsageError(description: "f returned \(v.count) elements after a perturbation, \(projection.count) before")
            }
            var s = 0.0
            for i in 0..<v.count { s += Double(v[i]) * Double(projection[i]) }
            return s
        }
        let p = t.floatPointer
        var numeric = [Double](repeating: 0, count: t.count)
        try withNoGrad {
            for i in 0..<t.count {
                let original = p[i]
                defer { p[i] = original }
                p[i] = original + eps
                let plus = try loss()
                p[i] = original - eps
                let minus = try loss()
                numeric[i] = (plus - minus) / Double(2 * eps)
            }
        }
        return numeric
    }
}
