import Foundation

/// numpy's float32 matmul speed, measured by a `python3 -c` subprocess.
///
/// numpy calls OpenBLAS, the usual yardstick for a CPU GEMM. The subprocess gets the same thread
/// count as Temper and an environment without `OPENBLAS_CORETYPE` / `OPENBLAS_L2_SIZE`: those
/// overrides (set on some machines for other tools) pin OpenBLAS to a slower kernel or blocking,
/// which would flatter the ratio.
struct NumpyReference: CustomStringConvertible {
    /// Why numpy could not be measured.
    struct Problem: Error {
        let message: String
    }

    /// numpy's and its BLAS's versions, as numpy reports them.
    let description: String
    private let environment: [String: String]

    /// Times `a @ b` on random float32 operands: argv is size and seconds; prints best GFLOP/s.
    private static let timingScript = """
    import sys, time, numpy as np
    n, budget = int(sys.argv[1]), float(sys.argv[2])
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    c = a @ b; c = a @ b
    best, spent, runs = float("inf"), 0.0, 0
    while runs < 3 or spent < budget:
        t = time.perf_counter(); np.matmul(a, b, out=c); e = time.perf_counter() - t
        best, spent, runs = min(best, e), spent + e, runs + 1
    print(2.0 * n ** 3 / best / 1e9)
    """

    private static let versionScript = """
    import numpy as np
    cfg = np.show_config(mode="dicts") if hasattr(np, "show_config") else {}
    blas = cfg.get("Build Dependencies", {}).get("blas", {}) if isinstance(cfg, dict) else {}
    print("numpy", np.__version__, "with", blas.get("name", "unknown BLAS"), blas.get("version", ""))
    """

    /// Finds `python3` with numpy, or says why not.
    static func locate(threads: Int) -> Result<NumpyReference, Problem> {
        var env = ProcessInfo.processInfo.environment
        env["OPENBLAS_CORETYPE"] = nil
        env["OPENBLAS_L2_SIZE"] = nil
        env["OPENBLAS_NUM_THREADS"] = String(threads)
        env["OMP_NUM_THREADS"] = String(threads)
        return run(versionScript, arguments: [], environment: env).map {
            NumpyReference(description: $0, environment: env)
        }
    }

    /// numpy's best GFLOP/s for `n × n` operands over about `seconds` of timed runs.
    func gflops(size n: Int, seconds: Double) -> Result<Double, Problem> {
        NumpyReference.run(NumpyReference.timingScript, arguments: [String(n), String(seconds)], environment: environment)
            .flatMap { out in
                guard let value = Double(out), value > 0 else {
                    return .failure(Problem(message: "expected a GFLOP/s figure from python3, got '\(out)'"))
                }
                return .success(value)
            }
    }

    /// Runs `python3 -c script arguments…` and returns its trimmed standard output.
    private static func run(_ script: String, arguments: [String], environment: [String: String]) -> Result<String, Problem> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        process.environment = environment
        let stdout = Pipe(), stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            return .failure(Problem(message: "could not start python3: \(error.localizedDescription)"))
        }
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0 else {
            let lastLine = String(decoding: err, as: UTF8.self)
                .split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            return .failure(Problem(message: "python3 failed: \(lastLine)"))
        }
        return .success(text)
    }
}
