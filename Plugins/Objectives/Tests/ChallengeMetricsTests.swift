import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The challenges every run measures, on hand cases: forgetting (`general_perplexity` before and
/// after, and the change) and reward hacking (`gold_reward` beside the trained-on reward).
final class ChallengeMetricsTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["sft", "grpo", "full", "adamw", "exact-match"])
    }

    // MARK: - Forgetting

    /// Tokens [0, 2, 1]: position 0's logits (0, 0, ln 2) give token 2 probability 2/4, position
    /// 1's (0, ln 3, 0) give token 1 probability 3/5; perplexity = exp(−(ln ½ + ln ⅗)/2) = 1/√0.3.
    func testPerplexityOfAKnownDistribution() throws {
        let logits = Tensor(shape: [1, 3, 3], scalars: [0, 0, log(2), 0, log(3), 0, 5, -5, 0])
        let probe = try GeneralPerplexity(chunks: [[0, 2, 1]], source: "hand")
        XCTAssertEqual(probe.predictedTokens, 2)
        XCTAssertEqual(try probe.measure(FixedLogitsModel(logits)), 1 / 0.3.squareRoot(), accuracy: 1e-5)
        // Uniform over 5 tokens: the perplexity is the vocabulary size, over two chunks of
        // different lengths (the shorter one padded, its padding neither attended to nor counted).
        let uniform = try GeneralPerplexity(chunks: [[1, 2, 3, 4], [4, 0]], source: "uniform")
        XCTAssertEqual(uniform.predictedTokens, 4)
        XCTAssertEqual(try uniform.measure(FixedLogitsModel(Tensor.zeros([2, 4, 5]))), 5, accuracy: 1e-4)
    }

    func testTheChangeIsAfterMinusTheStepZeroValue() {
        let history: [[String: Double]] = [["step": 0, "general_perplexity": 40], ["step": 10, "loss": 1.5]]
        XCTAssertEqual(GeneralPerplexity.entryAfter(perplexity: 42.5, step: 10, history: history),
                       ["step": 10, "general_perplexity": 42.5, "general_perplexity_before": 40, "general_perplexity_change": 2.5])
        // No step-0 measurement (a run resumed from a log without one): no before, no change.
        XCTAssertEqual(GeneralPerplexity.entryAfter(perplexity: 42.5, step: 10, history: [["step": 5, "loss": 1]]),
                       ["step": 10, "general_perplexity": 42.5])
    }

    func testTextIsCutToTheTokenCapInChunksAndBadInputIsNamed() throws {
        let tokenizer = try CharacterChatTokenizer.make()
        let probe = try GeneralPerplexity(text: "abcdefghij", tokenizer: tokenizer, maxTokens: 9, chunkLength: 4, source: "t")
        XCTAssertEqual(probe.chunks.map(\.count), [4, 4])   // 9 tokens → 4 + 4 + a last one of 1, dropped
        XCTAssertEqual(errorMessage { _ = try GeneralPerplexity(chunks: [[1, 2], [3]], source: "x") },
                       "general text x: chunk 1 has 1 token(s); each needs at least 2 (one to predict)")
        XCTAssertEqual(errorMessage { _ = try GeneralPerplexity(text: "A", tokenizer: tokenizer, source: "caps") },
                       "general text caps: the tokenizer spells it in 0 token(s); perplexity needs at least 2")
        var recipe = TrainingRecipe()
        try recipe.set("general_text_file", .text("/nonexistent/general.txt"))
        XCTAssertEqual(errorMessage { _ = try GeneralPerplexity.from(recipe: recipe, tokenizer: tokenizer, contextLength: 64) },
                       "recipe: general_text_file /nonexistent/general.txt cannot be read (missing file or no permission); give a UTF-8 text file, or none")
        try recipe.set("general_text_file", .text("none"))
        XCTAssertNil(try GeneralPerplexity.from(recipe: recipe, tokenizer: tokenizer, contextLength: 64))
        // The built-in text, cut to the default cap, in chunks that fit a 64-token context.
        let builtIn = try XCTUnwrap(try GeneralPerplexity.from(recipe: TrainingRecipe(), tokenizer: tokenizer, contextLength: 64))
        XCTAssertEqual(builtIn.source, GeneralText.sourceName)
        XCTAssertEqual(builtIn.chunks.map(\.count), Array(repeating: 64, count: 8))
        XCTAssertGreaterThan(GeneralText.text.utf8.count, 20_000)
    }

    /// A 3-step SFT run logs the initial model's perplexity at step 0 and the trained model's at
    /// step 3, each equal to a measurement of that model made here.
    func testTrainingLogsPerplexityBeforeAndAfter() throws {
        let dir = try makeTemporaryFolder("forgetting")
        let tokenizer = try CharacterChatTokenizer.make()
        let model = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 4)
        let text = dir.appendingPathComponent("general.txt")
        try Data("the river carries sand and silt down to the sea, where it slows and drops them.".utf8).write(to: text)
        let train = dir.appendingPathComponent("train.jsonl")
        try Data((0..<16).map { #"{"messages": [{"role": "user", "content": "\#($0)+1="}, {"role": "assistant", "content": "\#($0 + 1)"}]}"# }
            .joined(separator: "\n").utf8).write(to: train)
        var recipe = TrainingRecipe()
        for (k, v) in [("objective", "sft"), ("peft", "full"), ("optimizer", "adamw"), ("learning_rate", "0.01"), ("train_file", train.path),
                       ("output_dir", dir.appendingPathComponent("run").path), ("max_steps", "3"), ("per_device_train_batch_size", "4"),
                       ("assistant_only_loss", "true"), ("general_text_file", text.path), ("general_text_max_tokens", "40")] {
            try recipe.set(k, .text(v))
        }
        let probe = try GeneralPerplexity(text: String(decoding: try Data(contentsOf: text), as: UTF8.self), tokenizer: tokenizer, maxTokens: 40,
                                          source: "check")
        let before = try probe.measure(model)
        try TrainingSession(recipe: recipe, pretrained: PretrainedModel(model: model, tokenizer: tokenizer, source: dir)).run()
        let after = try probe.measure(model)
        XCTAssertNotEqual(before, after)
        let log = try QuickstartTests.metrics(dir.appendingPathComponent("run/metrics.jsonl"))
        let entries = log.filter { $0["general_perplexity"] != nil }
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(entries[0], ["step": 0, "general_perplexity": before])
        XCTAssertEqual(Set(entries[1].keys), ["step", "general_perplexity", "general_perplexity_before", "general_perplexity_change"])
        XCTAssertEqual(entries[1]["step"], 3)
        XCTAssertEqual(entries[1]["general_perplexity"], after)
        XCTAssertEqual(entries[1]["general_perplexity_before"], before)
        XCTAssertEqual(try XCTUnwrap(entries[1]["general_perplexity_change"]), after - before, accuracy: 1e-12)
    }

    // MARK: - Reward hacking

    /// Always answers "5".
    final class FiveSampler: CompletionSampling {
        let tokenizer: Tokenizer
        init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }
        func sample(prompts: [[Int32]], copies: Int, seed: UInt64, greedy: Bool) throws -> [RolloutSampler.Sample] {
            Array(repeating: RolloutSampler.Sample(ids: tokenizer.encode("5", parseSpecialTokens: false), text: "5", truncated: false),
                  count: prompts.count * copies)
        }
    }

    /// A proxy any answer satisfies: 1 for every completion.
    struct AlwaysOne: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] { batch.completions.map { _ in 1 } }
    }

    /// Three prompts, two samples each, every sample "5": the proxy gives 1 to all six, the gold
    /// verifier (exact-match on `answer`) 1 to the two of "2+3=", and judges nothing of the row
    /// without an answer: gold_reward = 2/4, reward = 1, and the gap between them is what the
    /// policy would be rewarded for without being right.
    func testGoldRewardIsLoggedBesideTheProxyAndNeverTrainedOn() throws {
        let tokenizer = try CharacterChatTokenizer.make()
        let dir = try makeTemporaryFolder("gold")
        let file = dir.appendingPathComponent("prompts.jsonl")
        try Data([#"{"prompt": "2+2=", "answer": "4"}"#, #"{"prompt": "2+3=", "answer": "5"}"#, #"{"prompt": "1+1=", "answer": null}"#]
            .joined(separator: "\n").utf8).write(to: file)
        var settings = RolloutSettings()
        settings.numGenerations = 2
        let prompts = try PromptDataset.load(path: file.path, tokenizer: tokenizer)
        let loop = try RolloutLoop(sampler: FiveSampler(tokenizer: tokenizer), tokenizer: tokenizer, prompts: prompts,
                                   rewards: [WeightedReward(name: "proxy", reward: AlwaysOne())], settings: settings,
                                   microBatchSize: 6, gradientAccumulationSteps: 1, seed: 1, padID: tokenizer.padTokenID ?? 0)
        loop.goldReward = try GoldReward.resolve(spec: nil, promptColumns: prompts.columnNames, registry: .shared)
        XCTAssertEqual(loop.goldReward?.name, "exact-match")
        let policy = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 1)
        let part = try loop.microBatch(at: 0, policy: policy, reference: nil, objective: try ComponentRegistry.shared.objective("grpo"), step: 0)
        XCTAssertEqual(part.metrics["reward"], 1)
        XCTAssertEqual(part.metrics["gold_reward"], 0.5)
        // Trained on the proxy alone: every row's reward is 1, whatever gold said.
        XCTAssertEqual(try XCTUnwrap(part.batch).rewards, Array(repeating: 1, count: 6))

        XCTAssertNil(try GoldReward.resolve(spec: "none", promptColumns: ["answer"], registry: .shared))
        XCTAssertNil(try GoldReward.resolve(spec: nil, promptColumns: ["target"], registry: .shared))
        XCTAssertEqual(try GoldReward.resolve(spec: "exact-match:column=target", promptColumns: [], registry: .shared)?.name, "exact-match")
        XCTAssertEqual(errorMessage { _ = try GoldReward.resolve(spec: "exact-match:colum=target", promptColumns: [], registry: .shared) }?
                        .hasPrefix("recipe: gold_reward: exact-match: unknown parameter 'colum'."), true)
        XCTAssertNil(GoldReward.mean([nil, nil]))
        XCTAssertEqual(GoldReward.mean([1, nil, 0, 0]), 1.0 / 3)
    }

    func testGoldRewardOnADatasetObjectiveIsRefused() throws {
        let tokenizer = try CharacterChatTokenizer.make()
        let dir = try makeTemporaryFolder("gold-sft")
        let train = dir.appendingPathComponent("train.jsonl")
        try Data(#"{"messages": [{"role": "user", "content": "1+1="}, {"role": "assistant", "content": "2"}]}"#.utf8).write(to: train)
        var recipe = TrainingRecipe()
        for (k, v) in [("objective", "sft"), ("train_file", train.path), ("output_dir", dir.path), ("gold_reward", "exact-match")] {
            try recipe.set(k, .text(v))
        }
        let model = try TinyLlama.model(vocabSize: tokenizer.vocabularySize, seed: 1)
        XCTAssertEqual(errorMessage { _ = try TrainingSession(recipe: recipe, pretrained: PretrainedModel(model: model, tokenizer: tokenizer, source: dir)) },
                       "recipe: gold_reward is set, but objective 'sft' trains on a dataset, not on scored samples; gold_reward applies to on-policy objectives (grpo, rloo, ...)")
    }
}
