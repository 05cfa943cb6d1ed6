import ArgumentParser
import Foundation
import TemperCore

/// `temper-bench data-parallel`: what data parallelism on Open MPI costs and gives on this host.
/// All-reduce bandwidth between the ranks (float sums of 1–64 MiB, Temper's `MPICommunicator`),
/// and one LoRA SFT step of SmolLM2-135M on the same global batch at np = 1 and np = 2 (each rank
/// its share of the rows and 1/np of the threads, then norm, clipping and AdamW as the trainer
/// does), printed side by side from one invocation. At np = 2 the step runs both ways, alternating:
/// gradients summed after backward (`GradientAllReduce`, 16 MiB buckets) and summed in 4 MiB
/// buckets started during backward (`OverlappedGradientAllReduce`, what the trainer does).
///
/// The parent process launches each configuration with `mpirun` (`--worker`, rank 0 reporting
/// RESULT lines), so it needs Open MPI and scripts/build-mpi.sh's libTemperMPI.so.
struct DataParallelBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data-parallel",
        abstract: "All-reduce GB/s between 2 ranks and a LoRA SFT step at np = 1 vs np = 2 on one host (runs mpirun; needs scripts/build-mpi.sh).")

    @Option(help: "A .gguf file or Hugging Face directory.")
    var model = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    @Option(help: "Sequences per step over all ranks (the global batch).")
    var batch = 4
    @Option(name: .customLong("seq-len"), help: "Tokens per sequence.")
    var seqLen = 128
    @Option(help: "Threads over all ranks (each rank gets threads / np).")
    var threads = 2
    @Option(help: "Timed steps after one warm-up step.")
    var steps = 3
    @Option(help: "The launcher.")
    var mpirun = "mpirun"
    /// Set in the ranks that mpirun starts.
    @Flag(help: .hidden)
    var worker = false

    func validate() throws {
        guard batch > 1, batch % 2 == 0, seqLen > 1, threads > 0, steps > 0 else {
            throw ValidationError("--batch must be even (split over 2 ranks), --seq-len at least 2, --threads and --steps positive")
        }
    }

    func run() throws {
        guard FileManager.default.fileExists(atPath: model) else { throw ValidationError("no model at \(model): run scripts/fetch-smollm2.sh") }
        if worker { return try measure() }
        print(loadAverageLine())
        var table: [Int: [String: Double]] = [:]
        for np in [1, 2] { table[np] = try launch(np) }
        guard let one = table[1], let two = table[2], let t1 = one["step_median_after"], let t2 = two["step_median_after"],
              let t2o = two["step_median_overlapped"] else {
            throw ValidationError("a configuration reported no step time")
        }
        print("")
        print(String(format: "step (global batch %d × %d, LoRA r=8 all-linear): np=1 median %.2f s (best %.2f); np=2 median %.2f s (best %.2f) " +
                     "reduced after backward, %.2f s (best %.2f) overlapped; np=2 / np=1 = %.2f× after, %.2f× overlapped",
                     batch, seqLen, t1, one["step_best_after"] ?? 0, t2, two["step_best_after"] ?? 0, t2o, two["step_best_overlapped"] ?? 0, t2 / t1, t2o / t1))
        print(String(format: "np=2 gradient all-reduce: %.0f floats; after backward %.1f ms per step (%.1f %% of the step); overlapped, " +
                     "%.1f ms left to wait after backward (%.1f %%)", two["gradient_floats"] ?? 0,
                     1000 * (two["allreduce_seconds_after"] ?? 0), 100 * (two["allreduce_seconds_after"] ?? 0) / t2,
                     1000 * (two["allreduce_seconds_overlapped"] ?? 0), 100 * (two["allreduce_seconds_overlapped"] ?? 0) / t2o))
        for mib in Self.sizesMiB {
            if let gbs = two["allreduce_gbs_\(mib)"] { print(String(format: "all-reduce %3d MiB between 2 ranks: %.2f GB/s (algorithm bandwidth: bytes / time)", mib, gbs)) }
        }
    }

    static let sizesMiB = [1, 4, 16, 64]

    /// Runs `np` ranks of this benchmark under mpirun; returns rank 0's RESULT figures.
    private func launch(_ np: Int) throws -> [String: Double] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        process.arguments = [mpirun, "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "\(np)", me, "data-parallel", "--worker",
                             "--model", model, "--batch", "\(batch)", "--seq-len", "\(seqLen)", "--threads", "\(threads)", "--steps", "\(steps)"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var figures: [String: Double] = [:]
        for line in output.split(separator: "\n") {
            let f = line.split(separator: " ")
            if f.count == 3, f[0] == "RESULT", let v = Double(f[2]) { figures[String(f[1])] = v } else { print("np=\(np): \(line)") }
        }
        guard process.terminationStatus == 0 else { throw ValidationError("mpirun -np \(np) failed (exit status \(process.terminationStatus))") }
        return figures
    }

    /// One rank's measurements; rank 0 prints them as `RESULT name value`.
    private func measure() throws {
        let comm = try MPICommunicator.fromEnvironment()
        let np = comm.worldSize
        Parallel.threadCount = max(1, threads / np)
        func report(_ name: String, _ value: Double) { if comm.isRoot { print("RESULT \(name) \(value)") } }

        if np > 1 {
            for mib in Self.sizesMiB {
                var buffer = [Float](repeating: 1, count: mib << 18)
                let time = try bestSeconds(of: 5) {
                    try buffer.withUnsafeMutableBufferPointer { try comm.allReduceSum($0) }
                }
                report("allreduce_gbs_\(mib)", Double(mib << 20) / time / 1e9)
            }
        }

        _ = PluginLoader.shared.load(.standard())
        let pm = try PretrainedModel.load(from: URL(fileURLWithPath: model))
        let peft = try ComponentRegistry.shared.peft("lora:r=8,alpha=16,target_modules=all-linear")
        _ = try peft.apply(to: pm.model)
        let groups = peft.trainableGroups()
        let trainable = groups.flatMap(\.parameters)
        let objective = try ComponentRegistry.shared.objective("sft")
        let optimizer = try ComponentRegistry.shared.optimizer("adamw:lr=1e-5")
        // The global batch is the same at every np (seed 1); each rank takes its contiguous rows.
        var rng = PhiloxRNG(seed: 1)
        let vocab = UInt32(pm.model.config.vocabSize)
        let all = (0..<(batch * seqLen)).map { _ in Int32(rng.next32() % (vocab - 100)) + 100 }
        let rows = comm.share(of: batch)
        let ids = Tensor(shape: [rows.count, seqLen], int32: Array(all[(rows.lowerBound * seqLen)..<(rows.upperBound * seqLen)]))
        let ones = Tensor.ones([rows.count, seqLen])
        let data = TrainingBatch(inputIDs: ids, attentionMask: ones, lossMask: ones)
        var reduceSeconds: [Double] = []
        var bucketOrder: [Int]? = nil
        /// One step; `overlapped`: the sum starts during backward, else it follows it.
        func step(overlapped: Bool) throws -> Double {
            try comm.barrier()
            return try seconds {
                let out = try objective.loss(.batch(data), context: ObjectiveContext(policy: pm.model))
                let seed = Tensor(shape: out.loss.shape, scalars: [Float(rows.count) / Float(batch)])
                if overlapped, np > 1 {
                    let overlap = OverlappedGradientAllReduce(trainable, communicator: comm, order: bucketOrder)
                    try overlap.backward { out.loss.backward(seed) }
                    reduceSeconds.append(try seconds { try overlap.finish() })
                    // As the trainer: the buckets follow the order rank 0's first backward reached the parameters.
                    if bucketOrder == nil {
                        bucketOrder = try OverlappedGradientAllReduce.agreedOrder(overlap.observedOrder, count: trainable.count, communicator: comm)
                    }
                } else {
                    out.loss.backward(seed)
                    reduceSeconds.append(try seconds { try GradientAllReduce.sum(trainable, communicator: comm) })
                }
                GradientNorm.clip(trainable, norm: GradientNorm.global(trainable), maxNorm: 1)
                try optimizer.step(groups)
                for p in trainable { p.tensor.grad = nil }
            }
        }
        _ = try step(overlapped: true)     // warm-up; learns the bucket order
        // The two ways alternate, so that a change of load on the host hits both alike.
        var times: [Bool: [Double]] = [false: [], true: []], waits: [Bool: [Double]] = [false: [], true: []]
        for _ in 0..<steps {
            for overlapped in np > 1 ? [false, true] : [false] {
                reduceSeconds = []
                times[overlapped]!.append(try step(overlapped: overlapped))
                waits[overlapped]! += reduceSeconds
            }
        }
        for (overlapped, name) in [(false, "after"), (true, "overlapped")] where !times[overlapped]!.isEmpty {
            report("step_best_\(name)", times[overlapped]!.min() ?? 0)
            report("step_median_\(name)", median(times[overlapped]!))
            report("allreduce_seconds_\(name)", median(waits[overlapped]!))
        }
        report("gradient_floats", Double(trainable.reduce(0) { $0 + $1.tensor.count }))
        if comm.isRoot {
            for (overlapped, name) in [(false, "reduced after backward"), (true, "overlapped")] where !times[overlapped]!.isEmpty {
                print("\(Parallel.threadCount) thread(s) per rank, \(rows.count) of \(batch) rows each; steps (\(name)) " +
                      times[overlapped]!.map { String(format: "%.2f", $0) }.joined(separator: ", ") + " s")
            }
        }
    }
}
