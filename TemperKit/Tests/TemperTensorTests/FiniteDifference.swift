import XCTest
@testable import TemperTensor

/// Gradient checking against central finite differences, shared by every op family's tests.
enum FiniteDifference {
    /// A random float tensor that requires grad (values uniform in [low, high)).
    static func param(_ shape: [Int], seed: UInt64, low: Float = -1, high: Float = 1) -> Tensor {
        var rng = PhiloxRNG(seed: seed)
        return Tensor.uniform(shape, low: low, high: high, rng: &rng, requiresGrad: true)
    }

    /// Σ out·R in Double, where R is a fixed pseudo-random projection: a scalar loss whose gradient
    /// exercises every output element with a different weight.
    static func projectedLoss(_ out: Tensor, _ projection: [Float]) -> Double {
        let v = out.scalars
        var s = 0.0
        for i in 0..<v.count { s += Double(v[i]) * Double(projection[i]) }
        return s
    }

    /// Checks the autograd gradient of `f` for every tensor in `inputs` (contiguous float leaves
    /// that require grad) against `(L(x+ε) − L(x−ε)) / 2ε` for each element.
    static func check(_ inputs: [Tensor], eps: Float = 1e-2, rtol: Double = 1e-2, atol: Double = 1e-3,
                      file: StaticString = #filePath, line: UInt = #line, _ f: ([Tensor]) -> Tensor) {
        for t in inputs { t.zeroGrad() }
        let out = f(inputs)
        var rng = PhiloxRNG(seed: 7)
        let projection = (0..<out.count).map { _ in rng.nextUniform() * 2 - 1 }
        let r = Tensor(shape: out.shape, scalars: projection)
        (out * r).sum().backward()
        for (k, t) in inputs.enumerated() {
            XCTAssertTrue(t.isContiguous && t.requiresGrad, "input \(k) must be a contiguous parameter", file: file, line: line)
            guard let grad = t.grad else { XCTFail("input \(k) got no gradient", file: file, line: line); continue }
            XCTAssertEqual(grad.shape, t.shape, "input \(k) gradient shape", file: file, line: line)
            let analytic = grad.scalars
            let p = t.floatPointer
            var numeric = [Double](repeating: 0, count: t.count)
            withNoGrad {
                for i in 0..<t.count {
                    let orig = p[i]
                    p[i] = orig + eps
                    let plus = projectedLoss(f(inputs), projection)
                    p[i] = orig - eps
                    let minus = projectedLoss(f(inputs), projection)
                    p[i] = orig
                    numeric[i] = (plus - minus) / Double(2 * eps)
                }
            }
            let scale = max(1, numeric.map { abs($0) }.max() ?? 0)
            var worst = 0.0, worstAt = 0
            for i in 0..<t.count {
                let err = abs(Double(analytic[i]) - numeric[i]) / (atol * scale + rtol * abs(numeric[i]))
                if err > worst { worst = err; worstAt = i }
            }
            XCTAssertLessThanOrEqual(worst, 1, "input \(k) element \(worstAt): analytic \(analytic[worstAt]) vs numeric \(numeric[worstAt])",
                                     file: file, line: line)
        }
    }

    /// Asserts two float arrays agree elementwise within `tol` (absolute + relative).
    static func assertClose(_ a: [Float], _ b: [Float], tol: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "element counts", file: file, line: line)
        for i in 0..<min(a.count, b.count) where !(abs(a[i] - b[i]) <= tol * (1 + abs(b[i]))) {
            XCTFail("element \(i): \(a[i]) vs \(b[i])", file: file, line: line)
            return
        }
    }
}
