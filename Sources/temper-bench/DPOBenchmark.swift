import ArgumentParser
import Foundation
import TemperCore

/// `temper-bench dpo`: one DPO optimizer step on SmolLM2-135M-Instruct in float32 with LoRA (r=8,
/// alpha=16, all seven projection types), 4 preference pairs, max_length 128, beta 0.1 — issue 11's
/// set-up — in seconds (best and median step); and, when a reference Python is given, TRL's
/// DPOTrainer on the same pairs (`scripts/reference/dpo.py`) in the same invocation, with the ratio.
///
/// A step is what a `temper train --objective dpo` step does: chosen and rejected of every pair
/// through the policy in one batch, the reference (the same model with its adapters switched off)
/// without gradients, the loss, backward, AdamW.
struct DPOBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "DPO step seconds (LoRA, 4 pairs), beside TRL's DPOTrainer (target: ≤ 2 s a step).")

    @OptionGroup var target: BenchmarkModelOptions
    @Option(help: "Preference pairs per step.")
    var pairs = 4
    @Option(name: .customLong("max-length"), help: "max_length of each sequence.")
    var maxLength = 128
    @OptionGroup var timing: StepTimingOptions
    @OptionGroup(title: "Reference (TRL: needs torch, transformers, peft, trl, gguf)")
    var reference: ReferenceOptions

    /// Seconds per step, best and median (the JSON that dpo.py prints).
    struct Figures: Decodable {
        var best, median: Double
    }

    /// The issue's pairs: a question about i + i, the right answer and a hedged wrong one.
    static func rows(_ count: Int) -> [String] {
        (0..<count).map { i in
            let chosen = " The answer is \(2 * i). " + String(repeating: "It is computed by adding the two numbers together. ", count: 2)
            let rejected = " The answer is \(2 * i + 1). " + String(repeating: "I am not really sure about this one at all. ", count: 2)
            return #"{"prompt": "Question \#(i): What is \#(i) plus \#(i)?", "chosen": "\#(chosen)", "rejected": "\#(rejected)"}"#
        }
    }

    func validate() throws {
        guard pairs > 0, maxLength > 1 else {
            throw ValidationError("--pairs must be positive and --max-length at least 2")
        }
    }

    func run() throws {
        print(loadAverageLine())
        let ours = try measure()
        var theirs: Figures? = nil
        if let python = reference.python(threads: timing.threads) {
            switch python.versions(of: ["torch", "transformers", "peft", "trl"]) {
            case .success(let versions):
                print("reference: TRL DPOTrainer (float32, LoRA r=8 all-linear, AdamW, the same pairs): \(versions)")
                switch python.result(Figures.self, of: "dpo.py", ["--model", target.model, "--pairs", "\(pairs)", "--max-length", "\(maxLength)",
                                                                  "--threads", "\(timing.threads)", "--steps", "\(timing.steps)"]) {
                case .success(let figures):
                    theirs = figures
                    print(String(format: "TRL: best %.2f s a step, median %.2f s", figures.best, figures.median))
                case .failure(let problem): print("TRL failed: \(problem.message)")
                }
            case .failure(let problem): print("reference not run: \(problem.message)")
            }
        }
        print("")
        var table = Table(["", "best s/step", "median s/step"])
        table.add(["Temper", String(format: "%.2f", ours.best), String(format: "%.2f", ours.median)])
        if let theirs {
            table.add(["TRL DPOTrainer", String(format: "%.2f", theirs.best), String(format: "%.2f", theirs.median)])
            table.add(["TRL / Temper", String(format: "%.2f×", theirs.best / ours.best), String(format: "%.2f×", theirs.median / ours.median)])
        }
        table.print()
        print("target: ≤ 2 s a step")
        if theirs == nil { print("note: no comparison in this run; \(ReferencePython.howToCompare)") }
    }

    /// Loads the model, installs LoRA, and times DPO steps on the issue's pairs.
    private func measure() throws -> Figures {
        Parallel.threadCount = timing.threads
        let report = PluginLoader.shared.load(.standard())
        for name in ["dpo", "lora", "adamw"] where ComponentRegistry.shared.descriptor(named: name) == nil {
            throw ValidationError("component \(name) is not registered (are the libTemperPlugin*.so files next to temper-bench?) \(report)")
        }
        let pm = try target.load()
        let peft = try ComponentRegistry.shared.peft("lora:r=8,alpha=16,target_modules=all-linear")
        let counts = try peft.apply(to: pm.model)
        let groups = peft.trainableGroups()
        let objective = try ComponentRegistry.shared.objective("dpo:beta=0.1")
        let optimizer = try ComponentRegistry.shared.optimizer("adamw:lr=1e-5")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("temper-bench-dpo-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("pairs.jsonl")
        try Data((Self.rows(pairs).joined(separator: "\n") + "\n").utf8).write(to: file)
        let data = try TokenizedDataset.load(path: file.path, encoder: ExampleEncoder(tokenizer: pm.tokenizer, options: EncodingOptions(maxLength: maxLength)))
        let batch = BatchCollator.collate(data.examples, padID: pm.tokenizer.padTokenID ?? pm.tokenizer.eosTokenID ?? 0)
        let context = ObjectiveContext(policy: pm.model, reference: try TrainingSession.reference(of: pm.model))
        let trainable = groups.flatMap(\.parameters)
        func step() throws -> Double {
            try seconds {
                let out = try objective.loss(.batch(batch), context: context)
                out.loss.backward()
                try optimizer.step(groups)
                for p in trainable { p.tensor.grad = nil }
            }
        }
        print("Temper: dpo beta 0.1, lora r=8 (\(counts)), float32, \(timing.threads) thread(s), \(pairs) pairs as one batch of " +
              "\(batch.inputIDs.shape[0]) × \(batch.inputIDs.shape[1]) tokens")
        let warm = try step()
        let times = try (0..<timing.steps).map { _ in try step() }
        print(String(format: "  warm-up %.2f s; steps %@ s", warm, times.map { String(format: "%.2f", $0) }.joined(separator: ", ")))
        return Figures(best: times.min() ?? .infinity, median: median(times))
    }
}
