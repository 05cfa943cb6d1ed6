import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// Learning on synthetic preference data from a built-in task (sorting, as `temper data make sorting
/// --preference` writes it: chosen = the sorted list, rejected = the same with two neighbours
/// swapped; train and held-out problems from disjoint splits), with the character tokenizer and a
/// small Llama from scratch. Each test prints its held-out numbers per seed and their mean and
/// spread (the README's figures come from these lines).
final class PreferenceLearningTests: XCTestCase {
    override func setUp() { TestPlugins.loadBuilt(requiring: ["dpo", "reward-modeling", "adamw"]) }

    private let seeds: [UInt64] = [1, 2, 3]

    /// A small Llama for the character tokenizer.
    private func model(_ tokenizer: Tokenizer, seed: UInt64) throws -> LlamaModel {
        try LlamaModel(config: ModelConfig(vocabSize: tokenizer.vocabularySize, hiddenSize: 64, intermediateSize: 160, numHiddenLayers: 2,
                                           numAttentionHeads: 4, maxPositionEmbeddings: 64), seed: seed)
    }

    /// Preference rows of 4-number sorting as `TaskPreferencePairs` makes them (chosen sorted,
    /// rejected with two neighbours swapped), `trainCount` train and `evalCount` held-out problems from the
    /// task's disjoint splits; the prompt is cut to the numbers ("sort 68 59 26 47") to keep sequences short.
    private func writePairs(seed: UInt64, trainCount: Int = 400, evalCount: Int = 40, to dir: URL) throws -> (train: URL, eval: URL) {
        let task = try TaskCatalog.make("sorting", options: [("length", .text("4")), ("max_value", .text("20"))])
        func rows(_ split: TaskSplit, _ count: Int) throws -> String {
            // A list of equal numbers has no wrong order to make: left out.
            let examples = try TaskDataset.generate(task, count: count + count / 20, seed: seed, split: split)
                .filter { Set($0.answer.text.split(separator: " ")).count > 1 }.prefix(count).map { $0 }
            let lines = try TaskPreferencePairs.jsonl(examples, seed: seed, plain: true).split(separator: "\n")
            return try zip(examples, lines).map { example, line in
                var row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
                let numbers = example.prompt.components(separatedBy: ": ")[1].components(separatedBy: ". ")[0]
                row["prompt"] = "sort " + numbers.replacingOccurrences(of: ",", with: "") + "\n"
                return String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self)
            }.joined(separator: "\n") + "\n"
        }
        let train = dir.appendingPathComponent("train.jsonl"), eval = dir.appendingPathComponent("eval.jsonl")
        try rows(.train, trainCount).write(to: train, atomically: true, encoding: .utf8)
        try rows(.test, evalCount).write(to: eval, atomically: true, encoding: .utf8)
        return (train, eval)
    }

    private func trainer(objective spec: String, seed: UInt64, steps: Int, lr: Double, reference: Bool, trainCount: Int = 400,
                         evalCount: Int = 40, settings: [(String, String)] = []) throws -> Trainer {
        let dir = try makeTemporaryFolder("preference-learning")
        let files = try writePairs(seed: seed, trainCount: trainCount, evalCount: evalCount, to: dir)
        let tokenizer = try CharacterChatTokenizer.make()
        let model = try self.model(tokenizer, seed: seed)
        let objective = try ComponentRegistry.shared.objective(spec)
        var recipe = TrainingRecipe()
        for (k, v) in [("output_dir", dir.appendingPathComponent("run").path), ("max_steps", "\(steps)"), ("per_device_train_batch_size", "16"),
                       ("save_steps", "100000"), ("seed", "\(seed)"), ("logging_steps", "100000")] + settings {
            try recipe.set(k, .text(v))
        }
        let params = model.namedParameters
        for p in params { p.tensor.requiresGrad = true }
        let own = try objective.makeParameters(for: ObjectiveModelInfo(hiddenSize: 64, vocabSize: tokenizer.vocabularySize, seed: seed))
        let encoder = ExampleEncoder(tokenizer: tokenizer, options: EncodingOptions())
        let t = try Trainer(policy: model, objective: objective, optimizer: try ComponentRegistry.shared.optimizer("adamw:lr=\(lr)"),
                            groups: [ParameterGroup(parameters: params + own)],
                            trainData: try TokenizedDataset.load(path: files.train.path, encoder: encoder),
                            evalData: try TokenizedDataset.load(path: files.eval.path, encoder: encoder),
                            padID: tokenizer.padTokenID!, config: try TrainerConfig(recipe: recipe))
        if reference { t.reference = try model.frozenCopy() }
        return t
    }

    private func summary(_ name: String, _ values: [Double]) -> String {
        let mean = values.reduce(0, +) / Double(values.count)
        let sd = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, values.count - 1))).squareRoot()
        return "\(name) " + values.map { String(format: "%.3f", $0) }.joined(separator: " ") + String(format: " (mean %.3f, sd %.3f)", mean, sd)
    }

    func testDPORaisesHeldOutRewardAccuracyAndMarginForThreeSeeds() throws {
        var accuracies: [Double] = [], margins: [Double] = []
        for seed in seeds {
            let t = try trainer(objective: "dpo:beta=0.1", seed: seed, steps: 150, lr: 3e-3, reference: true)
            let before = try t.evaluate()
            XCTAssertEqual(before.metrics["rewards/margins"]!, 0, accuracy: 1e-6, "the policy starts as its reference")
            XCTAssertNil(before.perplexity)
            let after = try t.train().evaluation!
            accuracies.append(after.metrics["rewards/accuracies"]!)
            margins.append(after.metrics["rewards/margins"]!)
            XCTAssertGreaterThan(after.metrics["rewards/accuracies"]!, 0.5, "seed \(seed): held-out reward accuracy above chance")
            XCTAssertGreaterThan(after.metrics["rewards/margins"]!, 0, "seed \(seed)")
        }
        print("dpo held-out (4-number sorting pairs, 150 steps):", summary("rewards/accuracies", accuracies), summary("rewards/margins", margins))
    }

    func testRewardModelRanksHeldOutPairs() throws {
        var accuracies: [Double] = []
        for seed in seeds {
            // Ten times the problems of the DPO test: on 400 (500 steps, 20 passes) the held-out
            // accuracy stopped at 0.71 ± 0.04; on 4000 it passes the 0.9. At lr 3e-3
            // without warmup the run was unstable (gradient norms 6-9 against the clip at 1): a
            // change of rounding in attention moved single seeds between 0.725 and 1.0 on 40
            // held-out pairs. At 1e-3 with 10 % warmup, seeds 1-9 scored 0.98-1.0 on 200 pairs.
            let t = try trainer(objective: "reward-modeling", seed: seed, steps: 1000, lr: 1e-3, reference: false, trainCount: 4000,
                                evalCount: 200, settings: [("warmup_ratio", "0.1")])
            let after = try t.train().evaluation!
            accuracies.append(after.metrics["accuracy"]!)
            XCTAssertGreaterThan(after.metrics["accuracy"]!, 0.85, "seed \(seed)")
        }
        print("reward-modeling held-out (4-number sorting pairs, 4000 problems, 1000 steps, 200 held-out pairs):", summary("accuracy", accuracies))
        XCTAssertGreaterThanOrEqual(accuracies.reduce(0, +) / Double(accuracies.count), 0.9, "the issue's bar: mean held-out accuracy ≥ 0.9")
    }
}
