import Foundation
@testable import TemperCore
import XCTest

final class TrainerTests: XCTestCase {
    private func setup(_ dir: URL, rows: Int = 24, configure: (inout TrainerConfig) -> Void = { _ in },
                       objective: TestNLL = TestNLL(), lr: Float = 0.05, evalRows: Int = 0) throws -> (Trainer, LlamaModel) {
        let train = try TrainingFixtures.dataset(try TrainingFixtures.write(TrainingFixtures.additionChats(count: rows), to: dir, name: "train.jsonl"))
        let eval = evalRows > 0 ? try TrainingFixtures.dataset(try TrainingFixtures.write(
            TrainingFixtures.additionChats(count: evalRows, offset: 3), to: dir, name: "eval.jsonl")) : nil
        var config = TrainerConfig(outputDir: dir.appendingPathComponent("run"))
        config.perDeviceTrainBatchSize = 4
        config.maxSteps = 12
        config.loggingSteps = 4
        config.saveSteps = 4
        config.lrSchedulerType = .cosine
        config.warmupSteps = 2
        configure(&config)
        let model = try TrainingFixtures.model()
        let trainer = try Trainer(policy: model, objective: objective, optimizer: TestMomentumSGD(lr: lr),
                                  groups: TrainingFixtures.fullGroups(model), trainData: train, evalData: eval,
                                  padID: TrainingFixtures.tokenizer.padTokenID!, config: config)
        return (trainer, model)
    }

    private func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    func testLossGoesDownAndMetricsAreLogged() throws {
        let dir = try TrainingFixtures.tempDir()
        let (trainer, _) = try setup(dir, configure: { $0.maxSteps = 40; $0.loggingSteps = 10; $0.saveSteps = 100 }, evalRows: 8)
        let before = try trainer.evaluate().loss
        var output = ""
        trainer.reporter = ProgressReporter(interactive: false) { output += $0 }
        let summary = try trainer.train()
        XCTAssertEqual(summary.globalStep, 40)
        XCTAssertLessThan(summary.evalLoss!, before * 0.7, "eval loss \(before) → \(summary.evalLoss!)")
        let log = try lines(dir.appendingPathComponent("run/metrics.jsonl"))
        let train = log.filter { $0["loss"] != nil }
        XCTAssertEqual(train.map { $0["step"] as! Int }, [10, 20, 30, 40])
        XCTAssertLessThan(train.last!["loss"] as! Double, train.first!["loss"] as! Double)
        for key in ["learning_rate", "grad_norm", "tokens_per_second", "epoch", "num_tokens"] { XCTAssertNotNil(train[0][key], key) }
        let eval = log.filter { $0["eval_loss"] != nil }
        XCTAssertEqual(eval.count, 1)
        XCTAssertEqual(eval[0]["eval_perplexity"] as! Double, exp(eval[0]["eval_loss"] as! Double), accuracy: 1e-9)
        XCTAssertTrue(output.contains("step 10/40 | loss "), output)
        XCTAssertTrue(output.contains("tok/s | ETA "), output)
        // The final step is always checkpointed.
        XCTAssertEqual(CheckpointStore(outputDir: dir.appendingPathComponent("run")).checkpoints().map(\.step), [40])
    }

    func testAccumulationMatchesOneLargeBatch() throws {
        // 8 rows: one step of batch 8 equals one step of 4 micro-batches of 2 (token-weighted means).
        let dirA = try TrainingFixtures.tempDir(), dirB = try TrainingFixtures.tempDir()
        let (a, modelA) = try setup(dirA, rows: 8, configure: { $0.perDeviceTrainBatchSize = 8; $0.maxSteps = 1; $0.warmupSteps = 0; $0.lrSchedulerType = .constant })
        let (b, modelB) = try setup(dirB, rows: 8, configure: {
            $0.perDeviceTrainBatchSize = 2; $0.gradientAccumulationSteps = 4; $0.maxSteps = 1; $0.warmupSteps = 0; $0.lrSchedulerType = .constant
        })
        try a.train()
        try b.train()
        for (pa, pb) in zip(modelA.namedParameters, modelB.namedParameters) {
            for (x, y) in zip(pa.tensor.scalars, pb.tensor.scalars) { XCTAssertEqual(x, y, accuracy: 1e-5, pa.name) }
        }
        XCTAssertNotEqual(modelA.namedParameters[1].tensor.scalars, try TrainingFixtures.model().namedParameters[1].tensor.scalars)
    }

    func testResumedRunIsBitIdenticalToUninterruptedRun() throws {
        // 24 rows, batch 4: 6 batches per epoch, 12 steps → two epochs, each in its own shuffled order.
        let dirA = try TrainingFixtures.tempDir(), dirB = try TrainingFixtures.tempDir()
        let (straight, modelA) = try setup(dirA)
        try straight.train()

        let (first, _) = try setup(dirB)
        try first.train(stopAfter: 7)        // checkpoint at 4; steps 5–7 are lost, as in a crash
        let store = CheckpointStore(outputDir: dirB.appendingPathComponent("run"))
        XCTAssertEqual(store.checkpoints().map(\.step), [4])
        let (second, modelB) = try setup(dirB)   // a fresh process: new model from the same seed
        let summary = try second.train(resumeFrom: store.latest())
        XCTAssertEqual(summary.globalStep, 12)
        for (pa, pb) in zip(modelA.namedParameters, modelB.namedParameters) {
            XCTAssertEqual(pa.tensor.scalars, pb.tensor.scalars, "\(pa.name) differs after resume")
        }
        // metrics.jsonl holds each step once: the lost steps were dropped on resume.
        let stepsA = try lines(dirA.appendingPathComponent("run/metrics.jsonl")).map { $0["step"] as! Int }
        let stepsB = try lines(dirB.appendingPathComponent("run/metrics.jsonl")).map { $0["step"] as! Int }
        XCTAssertEqual(stepsB, stepsA)
        XCTAssertEqual(second.state.logHistory.count, straight.state.logHistory.count)
    }

    func testCheckpointHoldsEveryPart() throws {
        let dir = try TrainingFixtures.tempDir()
        let (trainer, model) = try setup(dir, configure: { $0.maxSteps = 4 })
        try trainer.train()
        let folder = dir.appendingPathComponent("run/checkpoint-4")
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        XCTAssertEqual(names, ["model.safetensors", "optimizer.safetensors", "optimizer.json", "scheduler.json", "rng_state.json", "trainer_state.json"])
        let c = try CheckpointStore.load(from: folder)
        XCTAssertEqual(c.state.globalStep, 4)
        XCTAssertEqual(c.state.microBatchesConsumed, 4)
        XCTAssertEqual(c.schedule, trainer.schedule)
        XCTAssertEqual(c.rng, trainer.rng.state)
        XCTAssertEqual(c.weights["model.norm.weight"]!.scalars, model.norm.weight.scalars)
        XCTAssertEqual(c.optimizerState.tensors.count, model.namedParameters.count)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("trainer_state.json"))) as! [String: Any]
        XCTAssertEqual(json["global_step"] as? Int, 4)
        XCTAssertNotNil(json["log_history"])
    }

    func testCrashMidSaveLeavesThePreviousCheckpointIntact() throws {
        let dir = try TrainingFixtures.tempDir()
        let (trainer, _) = try setup(dir, configure: { $0.maxSteps = 8 })
        try trainer.train(stopAfter: 4)
        let run = dir.appendingPathComponent("run")
        let before = try Data(contentsOf: run.appendingPathComponent("checkpoint-4/model.safetensors"))
        struct Crash: Error {}
        trainer.store.afterEachFile = { if $0 == CheckpointStore.FileName.scheduler { throw Crash() } }
        XCTAssertThrowsError(try trainer.train(stopAfter: 8)) { XCTAssertTrue($0 is Crash) }
        let store = CheckpointStore(outputDir: run)
        XCTAssertEqual(store.checkpoints().map(\.step), [4])
        XCTAssertEqual(try Data(contentsOf: run.appendingPathComponent("checkpoint-4/model.safetensors")), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.appendingPathComponent("checkpoint-8").path))
        // A temporary folder left by a killed process is not a checkpoint and is cleared by the next save.
        try FileManager.default.createDirectory(at: run.appendingPathComponent(".checkpoint-8.tmp-1"), withIntermediateDirectories: true)
        XCTAssertEqual(store.latest()?.lastPathComponent, "checkpoint-4")
        trainer.store.afterEachFile = nil
        try trainer.saveCheckpoint()
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: run.path).contains { $0.hasPrefix(".checkpoint") })
        _ = try CheckpointStore.load(from: run.appendingPathComponent("checkpoint-8"))
    }

    func testSaveTotalLimitPrunesOldest() throws {
        let dir = try TrainingFixtures.tempDir()
        let (trainer, _) = try setup(dir, configure: { $0.saveSteps = 2; $0.saveTotalLimit = 2 })
        try trainer.train()
        XCTAssertEqual(CheckpointStore(outputDir: dir.appendingPathComponent("run")).checkpoints().map(\.step), [10, 12])
    }

    func testNonFiniteLossStopsNamingStepAndCheckpoint() throws {
        let dir = try TrainingFixtures.tempDir()
        let objective = TestNLL()
        let (trainer, _) = try setup(dir, objective: objective)
        try trainer.train(stopAfter: 4)
        objective.scale = .nan
        var message = ""
        do { try trainer.train(resumeFrom: nil) } catch { message = "\(error)" }
        XCTAssertTrue(message.hasPrefix("step 5: the loss is nan; training stopped. The last good checkpoint is "), message)
        XCTAssertTrue(message.contains("checkpoint-4"), message)
        XCTAssertEqual(CheckpointStore(outputDir: dir.appendingPathComponent("run")).checkpoints().map(\.step), [4])
    }

    func testNonFiniteStepsAreSkippedWhenAsked() throws {
        let dir = try TrainingFixtures.tempDir()
        let objective = TestNLL()
        objective.scale = .infinity
        let (trainer, model) = try setup(dir, configure: { $0.skipNonfiniteSteps = true; $0.maxSteps = 8 }, objective: objective)
        let before = model.namedParameters.map(\.tensor.scalars)
        let summary = try trainer.train(stopAfter: 3)   // the share of skipped steps is judged from step 8 on
        XCTAssertEqual(summary.skippedSteps, 3)
        XCTAssertEqual(model.namedParameters.map(\.tensor.scalars), before, "skipped steps must not touch the weights")
    }

    func testMostStepsSkippedStopsTheRun() throws {
        let objective = TestNLL()
        objective.scale = .infinity
        let (all, _) = try setup(try TrainingFixtures.tempDir(), configure: { $0.skipNonfiniteSteps = true; $0.maxSteps = 3 }, objective: objective)
        XCTAssertThrowsError(try all.train()) {
            XCTAssertTrue("\($0)".hasPrefix("3 of 3 steps had a non-finite loss or gradient and were skipped (skip_nonfinite_steps); " +
                                           "with more than 50 % skipped nothing is being trained, so training stopped without writing a final model. " +
                                           "No checkpoint was written before it."), "\($0)")
        }
        // 2 of 12 skipped: the run goes on and ends normally.
        let few = TestNLL()
        few.scaleAtStep = { $0 == 2 || $0 == 5 ? .nan : 1 }
        let (some, _) = try setup(try TrainingFixtures.tempDir(), configure: { $0.skipNonfiniteSteps = true }, objective: few)
        XCTAssertEqual(try some.train().skippedSteps, 2)
        // 5 of 9 skipped: judged once 8 steps ran.
        let most = TestNLL()
        most.scaleAtStep = { $0 % 2 == 0 ? .nan : 1 }
        let (many, _) = try setup(try TrainingFixtures.tempDir(), configure: { $0.skipNonfiniteSteps = true }, objective: most)
        XCTAssertThrowsError(try many.train()) { XCTAssertTrue("\($0)".hasPrefix("5 of 9 steps had a non-finite loss"), "\($0)") }
        XCTAssertEqual(many.state.globalStep, 9)
    }

    func testCollapsedModelStopsTheRun() throws {
        let objective = TestNLL()
        objective.deadGradient = true
        let (trainer, _) = try setup(try TrainingFixtures.tempDir(), configure: { $0.saveSteps = 2 }, objective: objective)
        XCTAssertThrowsError(try trainer.train()) {
            let message = "\($0)"
            XCTAssertTrue(message.hasPrefix("the model has collapsed: the gradient norm has been exactly 0 for the last 5 steps with the loss at "), message)
            XCTAssertTrue(message.contains("The last good checkpoint is ") && message.contains("checkpoint-4 "), message)
        }
        XCTAssertEqual(trainer.state.globalStep, 5)
    }

    func testEpochsArePassesOverTheDataWithAShortLastStep() throws {
        // Transformers' Trainer: 8 rows, batch 3 → 3 micro-batches; accumulation 2 → 2 steps per
        // epoch (the second with one micro-batch); 3 epochs → 6 steps and exactly 24 rows trained.
        let objective = TestNLL()
        let (trainer, _) = try setup(try TrainingFixtures.tempDir(), rows: 8, configure: {
            $0.perDeviceTrainBatchSize = 3; $0.gradientAccumulationSteps = 2; $0.maxSteps = -1; $0.numTrainEpochs = 3
        }, objective: objective)
        XCTAssertEqual(trainer.state.maxSteps, 6)
        let summary = try trainer.train()
        XCTAssertEqual(summary.globalStep, 6)
        XCTAssertEqual(objective.trainedRows, 24)
        XCTAssertEqual(trainer.state.microBatchesConsumed, 9)
        XCTAssertEqual(trainer.state.epoch, 3)
        XCTAssertEqual(trainer.state.logHistory.filter { $0["loss"] != nil }.compactMap { $0["epoch"] }, [2, 3], "epochs logged at steps 4 and 6")
        // Half an epoch is one step.
        let (half, _) = try setup(try TrainingFixtures.tempDir(), rows: 8, configure: {
            $0.perDeviceTrainBatchSize = 3; $0.gradientAccumulationSteps = 2; $0.maxSteps = -1; $0.numTrainEpochs = 0.5
        })
        XCTAssertEqual(half.state.maxSteps, 1)
    }

    func testMaxStepsZeroIsRefused() throws {
        XCTAssertThrowsError(try setup(try TrainingFixtures.tempDir(), configure: { $0.maxSteps = 0 })) {
            XCTAssertEqual("\($0)", "max_steps is 0, which would train nothing; set max_steps > 0, or -1 (the default) to train for num_train_epochs")
        }
    }

    func testResumeRefusesOtherSettings() throws {
        let dir = try TrainingFixtures.tempDir()
        let (trainer, _) = try setup(dir, configure: { $0.maxSteps = 4 })
        try trainer.train()
        let (other, _) = try setup(dir, configure: { $0.maxSteps = 4; $0.perDeviceTrainBatchSize = 2 })
        XCTAssertThrowsError(try other.train(resumeFrom: dir.appendingPathComponent("run/checkpoint-4"))) {
            XCTAssertTrue("\($0)".contains("per_device_train_batch_size 4, this run has 2"), "\($0)")
        }
        let (faster, _) = try setup(dir, configure: { $0.maxSteps = 4 }, lr: 0.1)
        XCTAssertThrowsError(try faster.train(resumeFrom: dir.appendingPathComponent("run/checkpoint-4"))) {
            XCTAssertTrue("\($0)".hasSuffix("it was written with the learning-rate schedule (lr_scheduler_type cosine, learning_rate 0.05, 4 steps, " +
                                           "warmup_steps 2), this run has (lr_scheduler_type cosine, learning_rate 0.1, 4 steps, warmup_steps 2); " +
                                           "resuming needs the same settings"), "\($0)")
        }
    }

    func testGradientClippingScalesToMaxNorm() {
        let t = Tensor(shape: [2], scalars: [0, 0], requiresGrad: true)
        t.grad = Tensor(shape: [2], scalars: [3, 4])
        let p = [NamedParameter(name: "t", tensor: t)]
        XCTAssertEqual(GradientNorm.global(p), 5)
        GradientNorm.clip(p, norm: 5, maxNorm: 1)
        XCTAssertEqual(t.grad!.scalars[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(GradientNorm.global(p), 1, accuracy: 1e-6)
    }
}
