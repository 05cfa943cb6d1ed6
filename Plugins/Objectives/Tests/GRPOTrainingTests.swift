import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The on-policy loop end to end with `grpo` on a tiny model: prompts → samples from the policy →
/// rewards → steps, its metrics, a bit-identical resume from the middle of a generation batch, and
/// the errors a user meets.
final class GRPOTrainingTests: XCTestCase {
    private var tokenizer: Tokenizer!

    override func setUpWithError() throws {
        TestPlugins.loadBuilt(requiring: ["grpo", "format", "exact-match", "adamw", "lora"])
        tokenizer = try CharacterChatTokenizer.make()
    }

    /// Twelve addition prompts, conversational, with an `answer` column.
    private func prompts(_ dir: URL, rows: [String]? = nil) throws -> URL {
        let url = dir.appendingPathComponent("prompts.jsonl")
        let lines = rows ?? (0..<12).map { i in #"{"prompt": [{"role": "user", "content": "\#(i)+\#(i + 3)="}], "answer": "\#(2 * i + 3)"}"# }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        return url
    }

    private func session(_ dir: URL, _ fields: [(String, String)], seed: UInt64 = 3) throws -> TrainingSession {
        var recipe = TrainingRecipe()
        let base: [(String, String)] = [
            ("train_file", try prompts(dir).path), ("output_dir", dir.appendingPathComponent("run").path), ("objective", "grpo"),
            ("optimizer", "adamw"), ("learning_rate", "0.05"), ("lr_scheduler_type", "constant"), ("max_steps", "4"),
            ("per_device_train_batch_size", "4"), ("num_generations", "4"), ("max_completion_length", "4"),
            ("logging_steps", "1"), ("save_steps", "100"), ("rewards", "format:pattern=\\d,match=search"),
        ]
        for (k, v) in base + fields { try recipe.set(k, .text(v)) }
        let model = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: seed)
        return try TrainingSession(recipe: recipe, pretrained: PretrainedModel(model: model, tokenizer: tokenizer, source: dir))
    }

    private func weights(_ s: TrainingSession) -> [String: [Float]] {
        var out: [String: [Float]] = [:]
        for g in s.trainer.groups { for p in g.parameters { out[p.name] = p.tensor.scalars } }
        return out
    }

    func testStepsSampleScoreAndLogTRLsMetrics() throws {
        let dir = try makeTemporaryFolder("grpo-metrics")
        let s = try session(dir, [("peft", "lora:r=4,lora_alpha=8,target_modules=all-linear"), ("num_iterations", "2"),
                                  ("objective", "grpo:beta=0.04,loss_type=grpo")])
        let before = weights(s)
        let summary = try s.trainer.train()
        XCTAssertEqual(summary.globalStep, 4)
        XCTAssertNotEqual(weights(s), before, "LoRA weights moved")
        // Step entries; the forgetting probe's general_perplexity entries (step 0 and the end) apart.
        let lines = try String(contentsOf: dir.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .filter { !$0.contains("general_perplexity") }
        XCTAssertEqual(lines.count, 4)
        let entry = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Double])
        for key in ["loss", "reward", "reward_std", "rewards/format/mean", "rewards/format/std", "frac_reward_zero_std", "kl", "entropy",
                    "clip_ratio/low_mean", "clip_ratio/high_mean", "clip_ratio/region_mean", "completions/mean_length",
                    "completions/max_length", "completions/clipped_ratio", "completions/tokens_per_second", "train_tokens_per_second",
                    "timing/generation_seconds", "timing/reward_seconds", "timing/logprob_passes_seconds", "timing/prepare_seconds"] {
            XCTAssertNotNil(entry[key], "metrics.jsonl lacks \(key): \(entry.keys.sorted())")
        }
        // One group of 4 completions of at most 4 tokens; the format reward is 0 or 1.
        XCTAssertLessThanOrEqual(try XCTUnwrap(entry["completions/max_length"]), 4)
        XCTAssertEqual(entry["reward"], entry["rewards/format/mean"])
        let reward = try XCTUnwrap(entry["reward"])
        XCTAssertTrue([0, 0.25, 0.5, 0.75, 1].contains(reward), "\(reward)")
        // The reference under LoRA is the same model with its adapters off: at the first step the
        // policy equals it, so the k3 KL is 0 up to rounding.
        XCTAssertEqual(try XCTUnwrap(entry["kl"]), 0, accuracy: 1e-6)
    }

    func testAResumedRunEndsBitIdenticalEvenFromTheMiddleOfAGenerationBatch() throws {
        // A generation batch of 2 prompts × 4 = 8 completions, read as 2 micro-batches, twice
        // (num_iterations 2): 4 steps per round. Stopping after step 2 lands in the middle of one,
        // where the rollouts themselves must come back from the checkpoint.
        let fields = [("steps_per_generation", "2"), ("num_iterations", "2"), ("max_steps", "6"), ("save_steps", "2"),
                      ("objective", "grpo:beta=0.04,epsilon_high=0.28")]
        let whole = try session(try makeTemporaryFolder("grpo-whole"), fields)
        try whole.trainer.train()

        let dir = try makeTemporaryFolder("grpo-resumed")
        let first = try session(dir, fields)
        try first.trainer.train(stopAfter: 2)
        let checkpoint = dir.appendingPathComponent("run/checkpoint-2")
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(RolloutLoop.checkpointFileName).path))
        let second = try session(dir, fields)
        let summary = try second.trainer.train(resumeFrom: checkpoint)
        XCTAssertEqual(summary.globalStep, 6)
        let a = weights(whole), b = weights(second)
        XCTAssertEqual(a.keys.sorted(), b.keys.sorted())
        for (name, values) in a { XCTAssertEqual(values.map(\.bitPattern), b[name]!.map(\.bitPattern), name) }
        XCTAssertNotEqual(a, weights(try session(try makeTemporaryFolder("grpo-untrained"), fields)), "training moved the weights")
    }

    func testPromptRowsAreCheckedWithFileAndLine() throws {
        let dir = try makeTemporaryFolder("grpo-bad-rows")
        let url = try prompts(dir, rows: [#"{"prompt": "1+1=", "answer": "2"}"#, #"{"question": "1+2="}"#])
        XCTAssertThrowsError(try PromptDataset.load(path: url.path, tokenizer: tokenizer)) {
            XCTAssertEqual("\($0)", "\(url.path):2: field 'prompt': missing: on-policy training needs a prompt per row " +
                           "(a string or a list of {role, content} messages)")
        }
        let skipped = try PromptDataset.load(path: url.path, tokenizer: tokenizer, skipInvalidRows: true)
        XCTAssertEqual(skipped.examples.count, 1)
        XCTAssertEqual(skipped.skippedRows, 1)
        let messages = try prompts(dir, rows: [#"{"prompt": [{"role": "user"}]}"#])
        XCTAssertThrowsError(try PromptDataset.load(path: messages.path, tokenizer: tokenizer)) {
            XCTAssertEqual("\($0)", "\(messages.path):1: field 'prompt[0].content': missing")
        }
    }

    func testPromptsKeepTheirColumnsAndTheLastTokensWhenCut() throws {
        let dir = try makeTemporaryFolder("grpo-columns")
        let url = try prompts(dir, rows: [#"{"prompt": "12+30=", "answer": "42", "nums": [1, 2]}"#,
                                          #"{"prompt": [{"role": "user", "content": "1+1="}]}"#])
        let ds = try PromptDataset.load(path: url.path, tokenizer: tokenizer, maxPromptLength: 4)
        XCTAssertEqual(ds.columnNames, ["answer", "nums"])
        XCTAssertEqual(ds.examples[0].columns["nums"], .array([.number(1), .number(2)]))
        XCTAssertEqual(ds.examples[1].columns["answer"], .null)
        XCTAssertEqual(ds.examples[0].text, "12+30=")
        XCTAssertEqual(ds.examples[0].ids, tokenizer.encode("+30=", parseSpecialTokens: false))
        XCTAssertEqual(ds.examples[1].text, "<|im_start|>user\n1+1=<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(ds.truncatedPrompts, 2)
    }

    func testARewardThatFailsIsNamedWithThePromptLines() throws {
        let dir = try makeTemporaryFolder("grpo-reward-fails")
        let s = try session(dir, [("rewards", "exact-match:column=solution")])
        XCTAssertThrowsError(try s.trainer.train()) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("reward 'exact-match' failed on completions of the prompts at \(dir.path)/prompts.jsonl lines "), text)
            XCTAssertTrue(text.hasSuffix(": exact-match: needs the dataset column 'solution'; the data has answer"), text)
        }
    }

    func testGenerationBatchesMustHoldWholeGroupsAndRewardsAreRequired() throws {
        let dir = try makeTemporaryFolder("grpo-settings")
        XCTAssertThrowsError(try session(dir, [("num_generations", "3")])) {
            XCTAssertEqual("\($0)", "per_device_train_batch_size × steps_per_generation = 4 × 1 = 4 completions must be a multiple of " +
                           "num_generations (3): a generation batch holds whole groups")
        }
        var recipe = TrainingRecipe()
        for (k, v) in [("train_file", try prompts(dir).path), ("objective", "grpo"), ("max_steps", "1")] { try recipe.set(k, .text(v)) }
        let model = try TinyLlama.model(vocabSize: tokenizer.vocabularySize)
        XCTAssertThrowsError(try TrainingSession(recipe: recipe, pretrained: PretrainedModel(model: model, tokenizer: tokenizer, source: dir))) {
            XCTAssertEqual("\($0)", "recipe: objective 'grpo' trains on rollouts and needs at least one reward (--reward SPEC, e.g. --reward math-equiv)")
        }
    }

    func testDynamicSamplingDropsGroupsWithoutRewardSpreadAndSaysWhenNoneIsLeft() throws {
        // Digits are common in a random model's 4 characters: some groups are mixed, some not;
        // the kept ones all have a spread.
        let dir = try makeTemporaryFolder("grpo-dynamic")
        let s = try session(dir, [("dynamic_sampling", "true"), ("dynamic_sampling_max_rounds", "3"), ("max_steps", "3")])
        try s.trainer.train()
        let entries = try String(contentsOf: dir.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .filter { !$0.contains("general_perplexity") }
            .map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Double]) }
        XCTAssertEqual(entries.count, 3)
        for e in entries { XCTAssertNotNil(e["dynamic_sampling/dropped_groups"], "\(e.keys.sorted())") }
        // exact-match never matches an untrained model's answer: every group is constant, none is left.
        let none = try session(try makeTemporaryFolder("grpo-dynamic-none"), [("dynamic_sampling", "true"),
                                                                             ("dynamic_sampling_max_rounds", "2"), ("rewards", "exact-match")])
        XCTAssertThrowsError(try none.trainer.train()) {
            XCTAssertTrue("\($0)".hasPrefix("step 1: dynamic sampling found no group whose rewards differ in 2 sampling rounds; training stopped."),
                          "\($0)")
        }
    }

    func testRewardsThatNeverApplyStopTheRunKeepingTheLastCheckpoint() throws {
        // exact-match returns nil where the answer cell is null: with no answers at all, no
        // completion is ever scored, and no step can be taken.
        let dir = try makeTemporaryFolder("grpo-unscored")
        _ = try prompts(dir, rows: (0..<4).map { #"{"prompt": "\#($0)+1=", "answer": null}"# })
        var recipe = TrainingRecipe()
        for (k, v) in [("train_file", dir.appendingPathComponent("prompts.jsonl").path), ("objective", "grpo"), ("max_steps", "2"),
                       ("output_dir", dir.appendingPathComponent("run").path), ("per_device_train_batch_size", "4"),
                       ("num_generations", "4"), ("max_completion_length", "2"), ("rewards", "exact-match")] {
            try recipe.set(k, .text(v))
        }
        let model = try TinyLlama.model(vocabSize: tokenizer.vocabularySize)
        let s = try TrainingSession(recipe: recipe, pretrained: PretrainedModel(model: model, tokenizer: tokenizer, source: dir))
        XCTAssertThrowsError(try s.trainer.train()) {
            XCTAssertEqual("\($0)", "step 1: no reward function scored any of the 4 completions of generation round 1 (every reward returned nil); " +
                           "training stopped. No checkpoint was written before it. Lower learning_rate or max_grad_norm, check the data, " +
                           "or set skip_nonfinite_steps to skip such steps.")
        }
    }
}
