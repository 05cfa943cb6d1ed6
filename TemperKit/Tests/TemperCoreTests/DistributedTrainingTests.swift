import Foundation
@testable import TemperCore
import XCTest

/// Data parallelism with ranks on threads (`ThreadRanks`): sharding, gradient reduction, the step
/// decision, rank-0-only files, resume on another number of ranks, and sharded rollouts.
final class DistributedTrainingTests: XCTestCase {
    func testSharesSplitItemsInOrder() {
        XCTAssertEqual((0..<3).map { RankShares.range(of: 5, rank: $0, worldSize: 3) }, [0..<2, 2..<4, 4..<5])
        XCTAssertEqual((0..<2).map { RankShares.range(of: 1, rank: $0, worldSize: 2) }, [0..<1, 1..<1])
        XCTAssertEqual(SingleProcess().share(of: 7), 0..<7)
    }

    func testSingleProcessCollectivesAreIdentities() throws {
        let one = SingleProcess()
        XCTAssertEqual(try one.allReduceSum([1.5, -2]), [1.5, -2])
        XCTAssertEqual(try one.allGather(["a": 1]), [["a": 1]])
        XCTAssertEqual(try one.broadcast([1, 2], root: 0), [1, 2])
    }

    func testTensorSumsScalarSumsAndBroadcastReachEveryRank() throws {
        let results = try ThreadRanks(size: 2).run { comm -> ([Float], Double, [UInt8]) in
            let t = Tensor(shape: [3], scalars: [1, 2, 3].map { Float($0 * (comm.rank + 1)) })
            try comm.allReduceSum(t)
            let from1 = try comm.broadcast(comm.rank == 1 ? [7, 8, 9] : [], root: 1)
            return (t.scalars, try comm.allReduceSum(0.5 + Double(comm.rank)), from1)
        }
        for r in results {
            XCTAssertEqual(r.0, [3, 6, 9])
            XCTAssertEqual(r.1, 2)
            XCTAssertEqual(r.2, [7, 8, 9])
        }
        XCTAssertThrowsError(try SingleProcess().allReduceSum(Tensor(shape: [2], int32: [1, 2]))) {
            XCTAssertEqual("\($0)", "all-reduce needs a contiguous float32 tensor; got int32 [2]")
        }
    }

    func testMPIIsUsedOnlyUnderMPIRunAndAMissingLibraryIsNamed() throws {
        XCTAssertTrue(try MPICommunicator.fromEnvironment(["PATH": "/usr/bin"]) is SingleProcess)
        XCTAssertTrue(MPICommunicator.launchedByMPI(["OMPI_COMM_WORLD_SIZE": "2"]))
        XCTAssertTrue(MPICommunicator.launchedByMPI(["PMIX_RANK": "0"]))
        let missing = "/nonexistent/libTemperMPI.so"
        XCTAssertEqual(MPICommunicator.candidatePaths([MPICommunicator.libraryVariable: missing]).first, missing)
        XCTAssertThrowsError(try MPICommunicator(libraryPath: missing)) {
            XCTAssertTrue("\($0)".hasPrefix("cannot load the MPI library /nonexistent/libTemperMPI.so: "), "\($0)")
        }
    }

    func testGradientAllReduceSumsAcrossBucketsAndKeepsMissingGradientsMissing() throws {
        // Buckets of 3 floats: the 5-element gradient spans two buckets, the 2-element one a third.
        let results = try ThreadRanks(size: 2).run { comm -> [[Float]?] in
            let a = NamedParameter(name: "a", tensor: Tensor.zeros([5])), b = NamedParameter(name: "b", tensor: Tensor.zeros([2]))
            let c = NamedParameter(name: "c", tensor: Tensor.zeros([1]))
            let r = Float(comm.rank)
            a.tensor.grad = Tensor(shape: [5], scalars: (0..<5).map { Float($0) + 10 * r })
            if comm.rank == 1 { b.tensor.grad = Tensor(shape: [2], scalars: [0.25, -1]) }   // rank 0 has none: counts as zeros
            try GradientAllReduce.sum([a, b, c], communicator: comm, bucketElements: 3)
            XCTAssertEqual(comm.calls, 4, "one reduction of the presence flags, then three buckets")
            return [a, b, c].map { $0.tensor.grad?.scalars }
        }
        for r in results {
            XCTAssertEqual(r[0], [10, 12, 14, 16, 18])
            XCTAssertEqual(r[1], [0.25, -1])
            XCTAssertNil(r[2], "no rank had a gradient for c: it stays without one (the optimizer skips it)")
        }
    }

    func testAllGatherNamesTheRankWhoseRecordDoesNotDecode() throws {
        let errors = try ThreadRanks(size: 2).run { comm -> String in
            if comm.rank == 1 { _ = try comm.allGather(Array("not json".utf8)); return "" }
            do { _ = try comm.allGather(3); return "no error" } catch { return "\(error)" }
        }
        XCTAssertTrue(errors[0].hasPrefix("rank 0: the Int gathered from rank 1 does not decode"), errors[0])
    }

    // MARK: - The trainer on two ranks

    private func trainer(_ dir: URL, communicator: any Communicator, accumulation: Int, objective: any Objective = TestNLL(), evaluates: Bool = false,
                         configure: (inout TrainerConfig) -> Void = { _ in }) throws -> (Trainer, LlamaModel) {
        let file = dir.appendingPathComponent("train.jsonl").path
        if !FileManager.default.fileExists(atPath: file) { _ = try TrainingFixtures.write(TrainingFixtures.additionChats(count: 12), to: dir, name: "train.jsonl") }
        let evalFile = dir.appendingPathComponent("eval.jsonl").path
        if evaluates, !FileManager.default.fileExists(atPath: evalFile) {
            _ = try TrainingFixtures.write(TrainingFixtures.additionChats(count: 11, offset: 5), to: dir, name: "eval.jsonl")
        }
        var config = TrainerConfig(outputDir: dir.appendingPathComponent("run"))
        config.perDeviceTrainBatchSize = 2
        config.gradientAccumulationSteps = accumulation
        config.maxSteps = 6            // 6 micro-batches per epoch, 2 per step: two epochs
        config.loggingSteps = 1
        config.saveSteps = 2
        config.lrSchedulerType = .cosine
        config.warmupSteps = 1
        configure(&config)
        let model = try TrainingFixtures.model()
        let trainer = try Trainer(policy: model, objective: objective, optimizer: TestMomentumSGD(lr: 0.05), groups: TrainingFixtures.fullGroups(model),
                                  trainData: try TrainingFixtures.dataset(file), evalData: evaluates ? try TrainingFixtures.dataset(evalFile) : nil,
                                  padID: TrainingFixtures.tokenizer.padTokenID!, config: config,
                                  communicator: communicator)
        return (trainer, model)
    }

    private func losses(_ dir: URL) throws -> [Double] {
        try String(contentsOf: dir.appendingPathComponent("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n").map {
            (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["loss"] as! Double
        }
    }

    func testTwoRanksTrainBitForBitLikeOneProcessOnTheSameGlobalBatch() throws {
        // One process accumulating 2 micro-batches of 2 rows = 2 ranks with one micro-batch each:
        // rank 0 + rank 1 is the same single addition as micro-batch 0 + micro-batch 1.
        let single = try TrainingFixtures.tempDir()
        let (one, oneModel) = try trainer(single, communicator: SingleProcess(), accumulation: 2)
        try one.train()
        let dirs = try (0..<2).map { _ in try TrainingFixtures.tempDir() }
        let ranks = try ThreadRanks(size: 2).run { comm -> [[Float]] in
            let (t, model) = try self.trainer(dirs[comm.rank], communicator: comm, accumulation: 1)
            XCTAssertEqual(t.microBatchesPerStep, 2)
            try t.train()
            XCTAssertEqual(t.state.numTokens, one.state.numTokens, "token counts are the job's, on every rank")
            return model.namedParameters.map(\.tensor.scalars)
        }
        let expected = oneModel.namedParameters.map(\.tensor.scalars)
        XCTAssertEqual(ranks[0], expected, "rank 0's weights after 6 steps")
        XCTAssertEqual(ranks[1], expected, "rank 1's weights after 6 steps")
        XCTAssertEqual(try losses(dirs[0]), try losses(single), "the loss curve")
        // Only rank 0 writes: rank 1's output folder stays empty.
        XCTAssertFalse(FileManager.default.fileExists(atPath: dirs[1].appendingPathComponent("run").path))
        XCTAssertEqual(CheckpointStore(outputDir: dirs[0].appendingPathComponent("run")).checkpoints().map(\.step), [2, 4, 6])
    }

    func testRunOnTwoRanksResumesOnOneWithTheSameGlobalBatch() throws {
        let single = try TrainingFixtures.tempDir()
        let (one, oneModel) = try trainer(single, communicator: SingleProcess(), accumulation: 2)
        try one.train()
        let shared = try TrainingFixtures.tempDir()
        _ = try ThreadRanks(size: 2).run { comm -> Int in
            let (t, _) = try self.trainer(shared, communicator: comm, accumulation: 1)
            return try t.train(stopAfter: 3).globalStep     // checkpoint-2 written; step 3 lost, as in a crash
        }
        let (resumed, model) = try trainer(shared, communicator: SingleProcess(), accumulation: 2)
        try resumed.train(resumeFrom: shared.appendingPathComponent("run/checkpoint-2"))
        XCTAssertEqual(model.namedParameters.map(\.tensor.scalars), oneModel.namedParameters.map(\.tensor.scalars))
        XCTAssertEqual(try losses(shared), try losses(single))

        let (other, _) = try trainer(shared, communicator: SingleProcess(), accumulation: 1)
        XCTAssertThrowsError(try other.train(resumeFrom: shared.appendingPathComponent("run/checkpoint-2"))) {
            XCTAssertTrue("\($0)".hasSuffix("it was written with 2 micro-batches per step (gradient_accumulation_steps × ranks), this run has 1 " +
                                           "(1 × 1); resuming needs the same global batch"), "\($0)")
        }
    }

    func testANonFiniteLossOnOneRankSkipsTheStepOnEveryRank() throws {
        let dirs = try (0..<2).map { _ in try TrainingFixtures.tempDir() }
        let outcomes = try ThreadRanks(size: 2).run { comm -> (Int, [[Float]], String) in
            let objective = TestNLL()
            if comm.rank == 1 { objective.scaleAtStep = { $0 == 1 ? .nan : 1 } }
            var output = ""
            let (t, model) = try self.trainer(dirs[comm.rank], communicator: comm, accumulation: 1, objective: objective,
                                              configure: { $0.maxSteps = 3; $0.skipNonfiniteSteps = true })
            t.reporter = ProgressReporter(interactive: false) { output += $0 }
            try t.train()
            return (t.state.skippedSteps, model.namedParameters.map(\.tensor.scalars), output)
        }
        XCTAssertEqual(outcomes.map(\.0), [1, 1])
        XCTAssertEqual(outcomes[0].1, outcomes[1].1, "both ranks skipped the same step: same weights")
        XCTAssertTrue(outcomes[0].2.contains("step 2: on rank 1: the loss is nan; step skipped (skip_nonfinite_steps)"), outcomes[0].2)
    }

    /// TestNLL with a per-batch metric (the mean first token id), counting the rows it evaluates.
    final class CountingEvalNLL: Objective {
        static let name = "test-counting-eval-nll"
        static let summary = "test double"
        static let parameters: [ParameterSpec] = []
        var inputKind: ObjectiveInputKind { .batches }
        let inner = TestNLL()
        var evaluatedRows = 0
        init(config: ComponentConfig) throws {}
        init() {}
        func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
            guard case .batch(let batch) = input else { throw TrainingError("batches only") }
            let b = batch.inputIDs.shape[0], t = batch.inputIDs.shape[1]
            if !GradMode.isEnabled { evaluatedRows += b }
            let first = (0..<b).map { Double(batch.inputIDs.int32Values[$0 * t + 1]) }.reduce(0, +) / Double(b)
            return ObjectiveOutput(loss: try inner.loss(input, context: context).loss, metrics: ["first_token": first])
        }
    }

    func testEvalIsShardedOverTheRanksAndEqualsOneProcesssToTheBit() throws {
        // 11 eval rows in batches of 2: 6 batches, 3 per rank (rank 0: 6 rows, rank 1: 5).
        let single = try TrainingFixtures.tempDir()
        let objective = CountingEvalNLL()
        let (one, _) = try trainer(single, communicator: SingleProcess(), accumulation: 2, objective: objective, evaluates: true)
        let expected = try one.evaluate()
        XCTAssertEqual(objective.evaluatedRows, 11)
        let dirs = try (0..<2).map { _ in try TrainingFixtures.tempDir() }
        let ranks = try ThreadRanks(size: 2).run { comm -> (EvaluationResult, Int) in
            let objective = CountingEvalNLL()
            let (t, _) = try self.trainer(dirs[comm.rank], communicator: comm, accumulation: 1, objective: objective, evaluates: true)
            return (try t.evaluate(), objective.evaluatedRows)
        }
        XCTAssertEqual(ranks.map(\.1), [6, 5], "each rank evaluated its share of the batches only")
        for (result, _) in ranks {
            XCTAssertEqual(result.loss.bitPattern, expected.loss.bitPattern)
            XCTAssertEqual(result.perplexity?.bitPattern, expected.perplexity?.bitPattern)
            XCTAssertEqual(result.metrics.mapValues(\.bitPattern), expected.metrics.mapValues(\.bitPattern))
        }
        XCTAssertEqual(expected.metrics.keys.sorted(), ["first_token"])
    }

    func testRanksThatDisagreeWithRankZeroStopNamingTheSetting() throws {
        let dirs = try (0..<2).map { _ in try TrainingFixtures.tempDir() }
        let errors = try ThreadRanks(size: 2).run { comm -> String in
            let (t, _) = try self.trainer(dirs[comm.rank], communicator: comm, accumulation: 1, configure: { $0.seed = 3 + comm.rank })
            do { try t.train(); return "trained" } catch { return "\(error)" }
        }
        let expected = "rank 1 does not run what rank 0 runs: seed is 4 there, 3 on rank 0; every rank must start with the same command, files and checkpoint"
        XCTAssertEqual(errors, [expected, expected])
        XCTAssertEqual(try ThreadRanks(size: 2).run { comm -> Int in
            try comm.checkSameOnEveryRank(["a": "1", "b": "2"])
            return comm.calls
        }, [2, 2], "agreeing ranks pass after one broadcast and one gather")
    }

    func testTheRolloutLoopMustShareTheTrainersCommunicator() throws {
        let dir = try TrainingFixtures.tempDir()
        let file = try TrainingFixtures.write([#"{"prompt": "1+1="}"#, #"{"prompt": "2+2="}"#], to: dir, name: "prompts.jsonl")
        let model = try TrainingFixtures.model()
        func loop(_ communicator: any Communicator) throws -> RolloutLoop {
            var settings = RolloutSettings()
            settings.numGenerations = 2
            return try RolloutLoop(sampler: RolloutSampler(model: model, tokenizer: TrainingFixtures.tokenizer, settings: settings),
                                   tokenizer: TrainingFixtures.tokenizer, prompts: PromptDataset.load(path: file, tokenizer: TrainingFixtures.tokenizer),
                                   rewards: [WeightedReward(name: "zero", reward: ZeroReward())], settings: settings, microBatchSize: 2,
                                   gradientAccumulationSteps: 1, seed: 1, padID: TrainingFixtures.tokenizer.padTokenID!, communicator: communicator)
        }
        var config = TrainerConfig(outputDir: dir.appendingPathComponent("run"))
        config.perDeviceTrainBatchSize = 2
        func trainer(loop: RolloutLoop, communicator: any Communicator) throws -> Trainer {
            try Trainer(policy: model, objective: RolloutObjective(), optimizer: TestMomentumSGD(lr: 0.1), groups: TrainingFixtures.fullGroups(model),
                        rollouts: loop, padID: TrainingFixtures.tokenizer.padTokenID!, config: config, communicator: communicator)
        }
        // Two single-process communicators are the same single process: accepted.
        XCTAssertNoThrow(try trainer(loop: try loop(SingleProcess()), communicator: SingleProcess()))
        let errors = try ThreadRanks(size: 2).run { comm -> String in
            let other = ThreadCommunicator(rank: comm.rank, ranks: comm.ranks)
            do { _ = try trainer(loop: try loop(other), communicator: comm); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(errors, Array(repeating: "the rollout loop and the trainer must share one communicator (the loop samples each rank's share of the prompts)", count: 2))
    }

    struct ZeroReward: RewardScoring {
        func score(_ batch: RewardBatch) throws -> [Float?] { batch.completions.map { _ in 0 } }
    }

    /// A rollout objective that is never trained here (the trainer is only built).
    final class RolloutObjective: Objective {
        static let name = "test-rollout-objective"
        static let summary = "test double"
        static let parameters: [ParameterSpec] = []
        var inputKind: ObjectiveInputKind { .rollouts }
        init(config: ComponentConfig) throws {}
        init() {}
        func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput { throw TrainingError("not trained in this test") }
    }
}
