import Foundation

/// numpy's float32 matmul speed, measured by `scripts/reference/gemm.py` in a Python subprocess.
///
/// numpy calls OpenBLAS, the usual yardstick for a CPU GEMM. The subprocess gets the same thread
/// count as Temper (see `ReferencePython`).
struct NumpyReference: CustomStringConvertible {
    /// numpy's and its BLAS's versions, as numpy reports them.
    let description: String
    private let python: ReferencePython

    /// Checks that `python` imports numpy, or says why not.
    static func locate(_ python: ReferencePython) -> Result<NumpyReference, ReferencePython.Problem> {
        python.run("gemm.py", ["--describe"]).flatMap { text in
            guard text.hasPrefix("numpy ") else {
                return .failure(ReferencePython.Problem(message: "expected numpy's version from gemm.py --describe, got '\(text.prefix(200))'"))
            }
            return .success(NumpyReference(description: text, python: python))
        }
    }

    /// numpy's best GFLOP/s for `n × n` operands over about `seconds` of timed runs.
    func gflops(size n: Int, seconds: Double) -> Result<Double, ReferencePython.Problem> {
        python.run("gemm.py", [String(n), String(seconds)]).flatMap { out in
            guard let value = Double(out), value > 0 else {
                return .failure(ReferencePython.Problem(message: "expected a GFLOP/s figure from gemm.py, got '\(out)'"))
            }
            return .success(value)
        }
    }
}
