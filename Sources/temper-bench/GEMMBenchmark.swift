import ArgumentParser
import Foundation
import TemperTensor

/// `temper-bench gemm`: float32 GFLOP/s of `GEMM.sgemm` on square products with each register-tile
/// kernel the CPU runs (AVX2 reference, AVX-512) and, where the CPU has AVX512_BF16, with `bf16: true`'s
/// tile, next to numpy's (OpenBLAS) figure measured in the same run, so the ratio compares like with
/// like. The ratio is the active float kernel's.
struct GEMMBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Square float32 matrix multiply: Temper's kernels vs numpy, GFLOP/s."
    )

    @Option(name: .long, parsing: .upToNextOption, help: "Matrix sizes M = N = K.")
    var sizes: [Int] = [256, 512, 1024, 2048]

    @Option(name: .long, help: "Threads for both Temper and numpy (default: Parallel.threadCount).")
    var threads: Int?

    @Option(name: .long, help: "Seconds of timed runs per size and kernel or library; the best run counts.")
    var seconds: Double = 1.5

    @Option(name: .long, help: "Alternations of Temper and numpy per size, so both see the same background load.")
    var rounds: Int = 3

    @Flag(name: .long, help: "Skip the numpy comparison.")
    var noNumpy = false

    @OptionGroup(title: "Reference (numpy; default: python3 on PATH)")
    var reference: ReferenceOptions

    func validate() throws {
        guard sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--sizes must be positive, got \(sizes)") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
    }

    func run() throws {
        if let t = threads { Parallel.threadCount = t }
        let threadCount = Parallel.threadCount
        var numpy: NumpyReference? = nil
        var note: String? = noNumpy ? "numpy comparison skipped (--no-numpy)" : nil
        if !noNumpy {
            let python = reference.python(threads: threadCount) ?? ReferencePython(executable: "python3", threads: threadCount)
            switch NumpyReference.locate(python) {
            case .success(let reference): numpy = reference
            case .failure(let problem): note = "numpy unavailable, ratio skipped: \(problem.message)"
            }
        }

        print("GEMM float32, C = A·B (M = N = K), \(threadCount) thread(s), best run after warm-up, "
              + "~\(seconds) s per entry in \(rounds) alternating round(s)")
        print(loadAverageLine())
        if let numpy { print("reference: \(numpy.description)") }
        if let note { print("note: \(note)") }
        let kernels = GEMMKernel.supported, active = GEMMKernel.active
        print("kernels: \(kernels.map(\.rawValue).joined(separator: ", ")) (active: \(active.rawValue); TEMPER_KERNELS overrides)"
              + (GEMMPrecision.bf16Supported ? "; bf16: the bf16: true mode's tile (bf16 products, float32 sums), same run" : ""))
        let header = [pad("size", 6)] + kernels.map { pad("\($0.rawValue) GFLOP/s", 16) }
            + (GEMMPrecision.bf16Supported ? [pad("bf16 GFLOP/s", 16)] : [])
            + (numpy == nil ? [] : [pad("numpy GFLOP/s", 15), pad("ratio", 7)])
        print(header.joined(separator: "  "))
        var shortfalls: [Int] = []
        for n in sizes {
            let operands = Operands(n)
            defer { operands.release() }
            var temper = [Double](repeating: 0, count: kernels.count), reference: Double? = numpy == nil ? nil : 0, failure: String? = nil
            var bf16 = 0.0
            for _ in 0..<rounds {
                for (index, kernel) in kernels.enumerated() {
                    temper[index] = max(temper[index], GEMMKernel.using(kernel) {
                        measureTemper(operands, seconds: seconds / Double(rounds))
                    })
                }
                if GEMMPrecision.bf16Supported {
                    let figure = try GEMMPrecision.using(.bf16) { measureTemper(operands, seconds: seconds / Double(rounds)) }
                    bf16 = max(bf16, figure)
                }
                guard let numpy, failure == nil else { continue }
                switch numpy.gflops(size: n, seconds: seconds / Double(rounds)) {
                case .success(let value): reference = max(reference ?? 0, value)
                case .failure(let problem): failure = problem.message; reference = nil
                }
            }
            var row = [pad("\(n)", 6)] + temper.map { pad(String(format: "%.1f", $0), 16) }
                + (GEMMPrecision.bf16Supported ? [pad(String(format: "%.1f", bf16), 16)] : [])
            let activeFigure = temper[kernels.firstIndex(of: active) ?? 0]
            if let reference {
                row += [pad(String(format: "%.1f", reference), 15), pad(String(format: "%.2f", activeFigure / reference), 7)]
                if activeFigure / reference < 0.95 { shortfalls.append(n) }
            } else if let failure {
                row += [pad("n/a", 15), pad("n/a", 7)]
                print("note: numpy failed at size \(n): \(failure)")
            }
            print(row.joined(separator: "  "))
        }
        if !shortfalls.isEmpty {
            print("below 0.95× numpy at size(s) \(shortfalls.map(String.init).joined(separator: ", ")); timings are noisy while other work runs")
        }
    }

    /// Random 64-byte-aligned `n × n` operands and output.
    struct Operands {
        let n: Int
        let a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>

        init(_ n: Int) {
            self.n = n
            a = Operands.random(n * n, seed: 1)
            b = Operands.random(n * n, seed: 2)
            c = Operands.random(n * n, seed: 3)
        }

        func release() { a.deallocate(); b.deallocate(); c.deallocate() }

        /// Uniform values in [-1, 1) from a fixed-seed generator.
        static func random(_ count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64)
                .bindMemory(to: Float.self, capacity: count)
            var state = seed &* 0x9E37_79B9_7F4A_7C15
            for i in 0..<count {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                p[i] = Float(state >> 40) / Float(1 << 23) - 1
            }
            return p
        }
    }

    /// Best GFLOP/s of `GEMM.sgemm` on `operands` over about `seconds`, after two warm-up calls.
    func measureTemper(_ operands: Operands, seconds: Double) -> Double {
        let n = operands.n
        let multiply = {
            GEMM.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: operands.a, lda: n,
                       b: operands.b, ldb: n, beta: 0, c: operands.c, ldc: n)
        }
        multiply(); multiply()
        var best = Double.infinity, spent = 0.0, runs = 0
        while runs < 3 || spent < seconds {
            let start = DispatchTime.now().uptimeNanoseconds
            multiply()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            best = min(best, elapsed)
            spent += elapsed
            runs += 1
        }
        return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
    }

    /// Right-aligns `s` in a column `width` characters wide.
    func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
