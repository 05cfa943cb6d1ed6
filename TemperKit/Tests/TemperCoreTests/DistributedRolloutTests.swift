import Foundation
@testable import TemperCore
import XCTest

/// Sharded rollouts: each rank samples and scores its share of a generation batch's prompts, and
/// the group statistics see the whole batch, so advantages equal a single process's.
final class DistributedRolloutTests: XCTestCase {
    /// Answers a digit drawn from each row's stream seed (row r of a call under `seed` is the
    /// generator's row r: `Generator.rowSeed(seed, offset: r)`), so a shard sampled with the moved
    /// seed answers what the whole batch would. Records how many prompts each call got.
    final class SeededSampler: CompletionSampling {
        var promptCounts: [Int] = []
        func sample(prompts: [[Int32]], copies: Int, seed: UInt64, greedy: Bool) throws -> [RolloutSampler.Sample] {
            promptCounts.append(prompts.count)
            return (0..<(prompts.count * copies)).map { row in
                let digit = String(Generator.rowSeed(seed, offset: row) % 10)
                return RolloutSampler.Sample(ids: TrainingFixtures.tokenizer.encode(digit, parseSpecialTokens: false), text: digit, truncated: false)
            }
        }
    }

    /// The completion's digit / 10.
    struct DigitReward: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] { batch.completions.map { Float($0).map { $0 / 10 } } }
    }

    /// GRPO's group-relative advantages (group std scaling) into `extra["advantages"]`.
    final class GroupAdvantages: Objective {
        static let name = "test-group-advantages"
        static let summary = "test double"
        static let parameters: [ParameterSpec] = []
        var inputKind: ObjectiveInputKind { .rollouts }
        init(config: ComponentConfig) throws {}
        init() {}
        func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws {
            let a = Advantages.groupRelative(rollouts.rewards, groupIndex: rollouts.groupIndex, scaling: .group)
            rollouts.extra["advantages"] = Tensor(shape: [a.count], scalars: a)
        }
        func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
            throw TrainingError("not trained in this test")
        }
    }

    private func loop(_ sampler: SeededSampler, accumulation: Int, communicator: any Communicator,
                      configure: (inout RolloutSettings) -> Void = { _ in }) throws -> RolloutLoop {
        let dir = try TrainingFixtures.tempDir()
        let rows = (0..<6).map { #"{"prompt": [{"role": "user", "content": "\#($0)+1="}]}"# }
        let file = try TrainingFixtures.write(rows, to: dir, name: "prompts.jsonl")
        var settings = RolloutSettings()
        settings.numGenerations = 4
        settings.maxCompletionLength = 2
        configure(&settings)
        return try RolloutLoop(sampler: sampler, tokenizer: TrainingFixtures.tokenizer,
                               prompts: PromptDataset.load(path: file, tokenizer: TrainingFixtures.tokenizer),
                               rewards: [WeightedReward(name: "digit", reward: DigitReward())], settings: settings,
                               microBatchSize: 4, gradientAccumulationSteps: accumulation, seed: 7, padID: TrainingFixtures.tokenizer.padTokenID!,
                               communicator: communicator)
    }

    /// What a micro-batch holds that the objective trains on.
    private func rows(_ b: RolloutBatch) -> [String] {
        (0..<b.rowCount).map { r in "\(b.rows(r..<(r + 1)).inputIDs.int32Values) reward \(b.rewards[r]) advantage \(b.extra["advantages"]!.scalars[r])" }
    }

    func testTwoRanksSampleHalfThePromptsEachAndGetTheSingleProcessAdvantages() throws {
        // A generation batch of 4 micro-batches of 4 rows: 4 prompts × 4 completions.
        let sampler = SeededSampler()
        let one = try loop(sampler, accumulation: 4, communicator: SingleProcess())
        let policy = try TrainingFixtures.model()
        let expected = try (0..<8).map { try rows(XCTUnwrap(one.microBatch(at: $0, policy: policy, reference: nil, objective: GroupAdvantages(), step: 0).batch)) }
        XCTAssertEqual(sampler.promptCounts, [4, 4], "two generation rounds of 4 prompts")
        XCTAssertEqual(Set(expected[0...3].flatMap { $0 }.map { $0.components(separatedBy: "advantage ")[1] }).count > 2, true,
                       "the rewards differ within groups, so the advantages do")

        let perRank = try ThreadRanks(size: 2).run { comm -> ([[String]], [Int]) in
            let sampler = SeededSampler()
            let loop = try self.loop(sampler, accumulation: 2, communicator: comm)
            let model = try TrainingFixtures.model()
            // As the trainer does: every rank walks every micro-batch of a step and keeps its share.
            let mine = try (0..<8).compactMap { index -> [String]? in
                let part = try loop.microBatch(at: index, policy: model, reference: nil, objective: GroupAdvantages(), step: index / 4)
                return comm.share(of: 4).contains(index % 4) ? self.rows(try XCTUnwrap(part.batch)) : nil
            }
            return (mine, sampler.promptCounts)
        }
        XCTAssertEqual(perRank[0].1, [2, 2], "rank 0 sampled 2 of each round's 4 prompts")
        XCTAssertEqual(perRank[1].1, [2, 2], "rank 1 sampled the other 2")
        XCTAssertEqual(perRank[0].0, [expected[0], expected[1], expected[4], expected[5]])
        XCTAssertEqual(perRank[1].0, [expected[2], expected[3], expected[6], expected[7]])
    }

    func testTheGoldRewardIsGatheredWithTheSamples() throws {
        // The gold verifier (here: the digit is even) travels with each rank's groups, so rank 0
        // logs the gold_reward of the whole batch, as one process does.
        struct EvenDigit: RewardScoring {
            func score(_ batch: RewardBatch) throws -> [Float?] { batch.completions.map { Int($0).map { $0 % 2 == 0 ? 1 : 0 } } }
        }
        func goldLogged(_ comm: any Communicator, accumulation: Int) throws -> Double? {
            let loop = try self.loop(SeededSampler(), accumulation: accumulation, communicator: comm)
            loop.goldReward = WeightedReward(name: "even", reward: EvenDigit())
            return try loop.microBatch(at: 0, policy: TrainingFixtures.model(), reference: nil, objective: GroupAdvantages(), step: 0)
                .metrics[GoldReward.metricKey]
        }
        let one = try XCTUnwrap(goldLogged(SingleProcess(), accumulation: 4))
        XCTAssertTrue(one > 0 && one < 1, "some sampled digits are even and some odd: \(one)")
        let perRank = try ThreadRanks(size: 2).run { comm in try goldLogged(comm, accumulation: 2) }
        XCTAssertEqual(perRank, [one, one])
    }

    func testARewardFailingOnOneRankFailsEveryRankNamingIt() throws {
        struct FailsOnFive: RewardScoring {
            func score(_ batch: RewardBatch) throws -> [Float?] {
                if batch.prompts.contains(where: { $0.contains("5+1=") }) { throw TrainingError("cannot score 5+1=") }
                return batch.completions.map { _ in 0 }
            }
        }
        let errors = try ThreadRanks(size: 2).run { comm -> String in
            let loop = try self.loop(SeededSampler(), accumulation: 3, communicator: comm)
            let failing = try RolloutLoop(sampler: SeededSampler(), tokenizer: TrainingFixtures.tokenizer, prompts: loop.prompts,
                                          rewards: [WeightedReward(name: "fails", reward: FailsOnFive())], settings: loop.settings,
                                          microBatchSize: 4, gradientAccumulationSteps: 3, seed: 7, padID: 0, communicator: comm)
            do { _ = try failing.microBatch(at: 0, policy: try TrainingFixtures.model(), reference: nil, objective: GroupAdvantages(), step: 0); return "no error" }
            catch { return "\(error)" }
        }
        // The 6 prompts of one round split 3 + 3; whichever rank drew 5+1= failed, and both say so.
        let failed = errors.firstIndex { !$0.hasPrefix("rank ") }!
        XCTAssertTrue(errors[failed].contains("reward 'fails' failed on completions of the prompts at"), errors[failed])
        XCTAssertEqual(errors[1 - failed], "rank \(failed): " + errors[failed])
    }

    /// GroupAdvantages that also wants the reference's log-probabilities.
    final class ReferenceGroupAdvantages: Objective {
        static let name = "test-reference-group-advantages"
        static let summary = "test double"
        static let parameters: [ParameterSpec] = []
        var inputKind: ObjectiveInputKind { .rollouts }
        var needsReference: Bool { true }
        init(config: ComponentConfig) throws {}
        init() {}
        func prepare(_ rollouts: inout RolloutBatch, context: ObjectiveContext) throws { try GroupAdvantages().prepare(&rollouts, context: context) }
        func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput { throw TrainingError("not trained in this test") }
    }

    /// The policy, counting the rows its trunk runs on.
    final class CountingModel: TrainableLanguageModel {
        let inner: LlamaModel
        var rows = 0
        init(_ inner: LlamaModel) { self.inner = inner }
        func logits(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
            rows += inputIDs.shape[0]
            return try inner.logits(inputIDs: inputIDs, attentionMask: attentionMask)
        }
        func hiddenStates(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
            rows += inputIDs.shape[0]
            return try inner.hiddenStates(inputIDs: inputIDs, attentionMask: attentionMask)
        }
        func logits(hiddenStates: Tensor) -> Tensor { inner.logits(hiddenStates: hiddenStates) }
    }

    func testOldPolicyAndReferenceLogProbsAreShardedAndGatheredBitForBit() throws {
        // num_iterations 2: π_old needs its own pass. A generation batch of 4 micro-batches of 4
        // rows; each rank scores 2 micro-batches under each model, then all hold the 16 rows.
        func bits(_ part: RolloutLoop.MicroBatch) throws -> [[UInt32]] {
            let b = try XCTUnwrap(part.batch)
            return [try XCTUnwrap(b.oldLogprobs).scalars.map(\.bitPattern), try XCTUnwrap(b.referenceLogprobs).scalars.map(\.bitPattern)]
        }
        let one = try loop(SeededSampler(), accumulation: 4, communicator: SingleProcess()) { $0.numIterations = 2 }
        let policy = CountingModel(try TrainingFixtures.model()), reference = CountingModel(try TrainingFixtures.model(seed: 2))
        let expected = try (0..<4).map { try bits(one.microBatch(at: $0, policy: policy, reference: reference, objective: ReferenceGroupAdvantages(), step: 0)) }
        XCTAssertEqual([policy.rows, reference.rows], [16, 16])
        XCTAssertTrue(expected[0][0].contains { Float(bitPattern: $0) < 0 }, "completion tokens have log-probabilities")

        let perRank = try ThreadRanks(size: 2).run { comm -> ([[[UInt32]]], [Int]) in
            let loop = try self.loop(SeededSampler(), accumulation: 2, communicator: comm) { $0.numIterations = 2 }
            let policy = CountingModel(try TrainingFixtures.model()), reference = CountingModel(try TrainingFixtures.model(seed: 2))
            let parts = try (0..<4).map { try bits(loop.microBatch(at: $0, policy: policy, reference: reference, objective: ReferenceGroupAdvantages(), step: 0)) }
            return (parts, [policy.rows, reference.rows])
        }
        for (parts, rows) in perRank {
            XCTAssertEqual(rows, [8, 8], "each rank scored half the rows under each model")
            XCTAssertEqual(parts, expected)
        }
    }
}
