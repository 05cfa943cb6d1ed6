import ArgumentParser
import Foundation
import TemperModels
import TemperTensor

/// `temper-bench prefix-sharing`: what forkable KV caches save a tree search. Runs the same
/// likelihood beam search (`PrefixSharingProbe`: N beams × M expansions, S steps of T sampled
/// tokens) over a decoding session twice — children sharing their parent's KV blocks, then
/// children recomputing their whole context — checks the beams are identical, and prints the
/// positions fed through the model, the forward passes and the wall time of both.
struct PrefixSharingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prefix-sharing",
        abstract: "Positions computed and time of a beam search with and without KV prefix sharing (default: SmolLM2-135M).")

    @OptionGroup var target: BenchmarkModelOptions
    @Option(help: "Beams kept per step (N).")
    var beams = 4
    @Option(help: "Children per beam and step (M).")
    var expansions = 2
    @Option(help: "Steps (S).")
    var steps = 8
    @Option(name: .customLong("step-tokens"), help: "Tokens sampled per child and step (T).")
    var stepTokens = 16
    @Option(name: .customLong("prompt-tokens"), help: "Prompt length.")
    var promptTokens = 128

    func validate() throws {
        guard beams >= 1, expansions >= 1, steps >= 1, stepTokens >= 1, promptTokens >= 2 else {
            throw ValidationError("--beams, --expansions, --steps and --step-tokens must be ≥ 1 and --prompt-tokens ≥ 2")
        }
    }

    func run() throws {
        print(loadAverageLine())
        let pm = try target.load()
        let vocab = UInt32(pm.model.config.vocabSize)
        var rng = PhiloxRNG(seed: 1)
        let prompt = (0..<promptTokens).map { _ in Int32(rng.next32() % (vocab - 100)) + 100 }
        func measure(_ share: Bool) throws -> (PrefixSharingProbe.Outcome, Double) {
            let start = Date()
            let outcome = try PrefixSharingProbe.run(model: pm.model, tokenizer: pm.tokenizer, prompt: prompt, beams: beams,
                                                     expansions: expansions, steps: steps, stepTokens: stepTokens, seed: 7,
                                                     sharesPrefixes: share)
            return (outcome, Date().timeIntervalSince(start))
        }
        let (shared, sharedSeconds) = try measure(true)
        let (copied, copiedSeconds) = try measure(false)
        guard shared.beams == copied.beams else {
            throw ValidationError("the beams differ with and without prefix sharing: the shared cache is wrong")
        }
        print("beam search: \(beams) beams × \(expansions) expansions, \(steps) steps of \(stepTokens) tokens, \(promptTokens)-token prompt; identical beams both ways")
        var table = Table(["", "positions fed", "forward passes", "seconds"])
        for (name, o, s) in [("with sharing", shared, sharedSeconds), ("without sharing", copied, copiedSeconds)] {
            table.add([name, "\(o.positionsComputed)", "\(o.forwardPasses)", String(format: "%.2f", s)])
        }
        table.print()
        print(String(format: "sharing feeds %.1f× fewer positions and runs %.1f× faster", Double(copied.positionsComputed) / Double(shared.positionsComputed),
                     copiedSeconds / max(sharedSeconds, 1e-9)))
    }
}
