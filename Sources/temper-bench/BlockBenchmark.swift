import ArgumentParser
import Foundation
import TemperModels
import TemperTensor

/// `temper-bench block`: forward + backward of one SmolLM2-135M-sized decoder layer (hidden 576,
/// 9 query / 3 key-value heads of 64, SwiGLU FFN 1536, RMSNorm, RoPE) on a batch of 8 × 128, every
/// weight and the input requiring grad — what one layer costs in a full fine-tuning step. The time
/// inside `GEMM.sgemm` is reported apart from everything else (norms, RoPE, attention,
/// elementwise ops, autograd bookkeeping), so it is clear which side a speed-up must come from.
struct BlockBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "block",
        abstract: "Forward + backward of one SmolLM2-sized decoder block: ms per step, GEMM vs the rest.")

    @Option(help: "Sequences per batch.")
    var batch = 8
    @Option(name: .customLong("seq-len"), help: "Tokens per sequence.")
    var seqLen = 128
    @Option(help: "Untimed steps first (page faults, allocator caches).")
    var warmup = 2
    @Option(help: "Timed steps; the fastest counts.")
    var steps = 5
    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    func validate() throws {
        guard batch > 0, seqLen > 0 else { throw ValidationError("--batch and --seq-len must be positive, got \(batch), \(seqLen)") }
        guard warmup >= 0, steps > 0 else { throw ValidationError("--warmup must be ≥ 0 and --steps > 0, got \(warmup), \(steps)") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
    }

    /// One step's wall time and GEMM time, in seconds, for the two phases.
    struct Timing {
        var forward = 0.0, backward = 0.0, forwardGEMM = 0.0, backwardGEMM = 0.0
        var total: Double { forward + backward }
    }

    func run() throws {
        if let t = threads { Parallel.threadCount = t }
        let hidden = 576, ffn = 1536
        // SmolLM2-135M's layer geometry; the vocabulary is irrelevant to one block, so it is tiny.
        let config = ModelConfig(vocabSize: 16, hiddenSize: hidden, intermediateSize: ffn, numHiddenLayers: 1,
                                 numAttentionHeads: 9, numKeyValueHeads: 3, headDim: 64, rmsNormEps: 1e-5,
                                 ropeTheta: 100_000, maxPositionEmbeddings: 8192, tieWordEmbeddings: true)
        let model = try LlamaModel(config: config, seed: 7)
        let layer = model.layers[0]
        let parameters = model.namedParameters.filter { $0.name.hasPrefix("model.layers.") }.map(\.tensor)
        for p in parameters { p.requiresGrad = true }
        var rng = PhiloxRNG(seed: 11)
        let x = Tensor.randn([batch, seqLen, hidden], rng: &rng, requiresGrad: true)
        let gradOut = Tensor.randn([batch, seqLen, hidden], rng: &rng)

        func step() -> Timing {
            for p in parameters { p.grad = nil }
            x.grad = nil
            GEMMProfiler.reset()
            var t = Timing()
            let start = DispatchTime.now().uptimeNanoseconds
            let out = layer.forward(x)
            let mid = DispatchTime.now().uptimeNanoseconds
            let forwardGEMM = GEMMProfiler.elapsedNanoseconds
            out.backward(gradOut)
            let end = DispatchTime.now().uptimeNanoseconds
            t.forward = Double(mid - start) / 1e9
            t.backward = Double(end - mid) / 1e9
            t.forwardGEMM = Double(forwardGEMM) / 1e9
            t.backwardGEMM = Double(GEMMProfiler.elapsedNanoseconds - forwardGEMM) / 1e9
            return t
        }

        GEMMProfiler.isEnabled = true
        defer { GEMMProfiler.isEnabled = false }
        for _ in 0..<warmup { _ = step() }
        var best = Timing(forward: .infinity, backward: .infinity)
        var all: [Double] = []
        for _ in 0..<steps {
            let t = step()
            all.append(t.total)
            if t.total < best.total { best = t }
        }

        // Multiply-adds per token of the seven projections (q and o 576², k and v 576 × 192, three
        // 576 × 1536 in the MLP); backward does twice the forward's (input and weight gradients).
        let perToken = 2 * hidden * (9 * 64) + 2 * hidden * (3 * 64) + 3 * hidden * ffn
        let projectionFlops = 2 * Double(batch * seqLen) * Double(perToken)
        print("one decoder block (hidden \(hidden), 9×64 query / 3×64 key-value heads, FFN \(ffn) SwiGLU), "
              + "batch \(batch) × \(seqLen), \(Parallel.threadCount) thread(s); best of \(steps) after \(warmup) warm-up")
        print("")
        print("phase        total ms    GEMM ms   other ms   GEMM share   GEMM GFLOP/s")
        func row(_ name: String, _ total: Double, _ gemm: Double, _ flops: Double) {
            print(name.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + String(format: "%11.1f%11.1f%11.1f%12.0f %%%15.1f", total * 1e3, gemm * 1e3, (total - gemm) * 1e3,
                           100 * gemm / total, flops / gemm / 1e9))
        }
        row("forward", best.forward, best.forwardGEMM, projectionFlops)
        row("backward", best.backward, best.backwardGEMM, 2 * projectionFlops)
        row("step", best.total, best.forwardGEMM + best.backwardGEMM, 3 * projectionFlops)
        print("")
        print("all steps (ms): " + all.map { String(format: "%.1f", $0 * 1e3) }.joined(separator: " "))
    }
}
