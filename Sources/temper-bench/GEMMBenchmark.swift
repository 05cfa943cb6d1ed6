import ArgumentParser
import Foundation
import TemperTensor

/// `temper-bench gemm`: float32 GFLOP/s of `GEMM.sgemm` on square products, next to numpy's
/// (OpenBLAS) figure measured in the same run, so the ratio compares like with like.
struct GEMMBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gemm",
        abstract: "Square float32 matrix multiply: Temper vs numpy, GFLOP/s."
    )

    @Option(name: .long, parsing: .upToNextOption, help: "Matrix sizes M = N = K.")
    var sizes: [Int] = [256, 512, 1024, 2048]

    @Option(name: .long, help: "Threads for both Temper and numpy (default: Parallel.threadCount).")
    var threads: Int?

    @Option(name: .long, help: "Seconds of timed runs per size and library; the best run counts.")
    var seconds: Double = 1.0

    @Flag(name: .long, help: "Skip the numpy comparison.")
    var noNumpy = false

    func validate() throws {
        guard sizes.allSatisfy({ $0 > 0 }) else { throw ValidationError("--sizes must be positive, got \(sizes)") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive, got \(seconds)") }
    }

    func run() throws {
        if let t = threads { Parallel.threadCount = t }
        let threadCount = Parallel.threadCount
        var numpy: NumpyReference? = nil
        var note: String? = noNumpy ? "numpy comparison skipped (--no-numpy)" : nil
        if !noNumpy {
            switch NumpyReference.locate(threads: threadCount) {
            case .success(let reference): numpy = reference
            case .failure(let problem): note = "numpy unavailable, ratio skipped: \(problem.message)"
            }
        }

        print("GEMM float32, C = A·B (M = N = K), \(threadCount) thread(s), best run after warm-up, ~\(seconds) s per entry")
        if let numpy { print("reference: \(numpy.description)") }
        if let note { print("note: \(note)") }
        let header = [pad("size", 6), pad("Temper GFLOP/s", 16), pad("numpy GFLOP/s", 15), pad("ratio", 7)]
        print(header.joined(separator: "  "))
        var shortfalls: [Int] = []
        for n in sizes {
            let temper = measureTemper(n)
            var row = [pad("\(n)", 6), pad(String(format: "%.1f", temper), 16)]
            if let numpy {
                switch numpy.gflops(size: n, seconds: seconds) {
                case .success(let reference):
                    row += [pad(String(format: "%.1f", reference), 15), pad(String(format: "%.2f", temper / reference), 7)]
                    if temper / reference < 0.95 { shortfalls.append(n) }
                case .failure(let problem):
                    row += [pad("n/a", 15), pad("n/a", 7)]
                    print("note: numpy failed at size \(n): \(problem.message)")
                }
            }
            print(row.joined(separator: "  "))
        }
        if !shortfalls.isEmpty {
            print("below 0.95× numpy at size(s) \(shortfalls.map(String.init).joined(separator: ", ")); timings are noisy while other work runs")
        }
    }

    /// Best GFLOP/s of `GEMM.sgemm` on random `n × n` operands, after two warm-up calls.
    func measureTemper(_ n: Int) -> Double {
        let count = n * n
        let a = alignedRandom(count, seed: 1), b = alignedRandom(count, seed: 2), c = alignedRandom(count, seed: 3)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        let multiply = {
            GEMM.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: a, lda: n,
                       b: b, ldb: n, beta: 0, c: c, ldc: n)
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

    /// A 64-byte-aligned buffer of uniform values in [-1, 1), from a fixed-seed generator.
    func alignedRandom(_ count: Int, seed: UInt64) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutableRawPointer.allocate(byteCount: count * 4, alignment: 64).bindMemory(to: Float.self, capacity: count)
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        for i in 0..<count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            p[i] = Float(state >> 40) / Float(1 << 23) - 1
        }
        return p
    }

    func pad(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - s.count)) + s
    }
}
