import Foundation
@testable import TemperCore
import XCTest

/// What the host does for objectives beyond SFT: per-sequence weighting, their own metrics in
/// evaluation, their own parameters, and a reference model without a second copy under PEFT.
final class ObjectiveHooksTests: XCTestCase {
    private func trainer(_ dir: URL, objective: any Objective, batch: Int, accumulation: Int, rows: Int = 8, extraGroups: [ParameterGroup] = [],
                         evalRows: Int = 0) throws -> (Trainer, LlamaModel) {
        // Answers of 1 to 8 characters: micro-batches hold different numbers of target tokens.
        let lines = (0..<rows).map { i in
            #"{"messages": [{"role": "user", "content": "\#(i)+1="}, {"role": "assistant", "content": "\#(String(repeating: "7", count: 1 + i % 8))"}]}"#
        }
        let train = try TrainingFixtures.dataset(try TrainingFixtures.write(lines, to: dir, name: "train.jsonl"))
        let eval = evalRows > 0 ? try TrainingFixtures.dataset(try TrainingFixtures.write(
            TrainingFixtures.additionChats(count: evalRows, offset: 5), to: dir, name: "eval.jsonl")) : nil
        var config = TrainerConfig(outputDir: dir.appendingPathComponent("run"))
        config.perDeviceTrainBatchSize = batch
        config.gradientAccumulationSteps = accumulation
        config.maxSteps = 1
        config.lrSchedulerType = .constant
        config.maxGradNorm = 0
        let model = try TrainingFixtures.model()
        let t = try Trainer(policy: model, objective: objective, optimizer: TestMomentumSGD(lr: 0.05),
                            groups: TrainingFixtures.fullGroups(model) + extraGroups, trainData: train, evalData: eval,
                            padID: TrainingFixtures.tokenizer.padTokenID!, config: config)
        return (t, model)
    }

    func testPerSequenceLossesAccumulateLikeOneBatch() throws {
        // Rows of different lengths: a per-row mean weighted by rows splits exactly; weighted by
        // tokens it would not.
        let (whole, a) = try trainer(try TrainingFixtures.tempDir(), objective: PerRowNLL(.sequences), batch: 8, accumulation: 1)
        let (split, b) = try trainer(try TrainingFixtures.tempDir(), objective: PerRowNLL(.sequences), batch: 2, accumulation: 4)
        let (byTokens, c) = try trainer(try TrainingFixtures.tempDir(), objective: PerRowNLL(.tokens), batch: 2, accumulation: 4)
        try whole.train(); try split.train(); try byTokens.train()
        var same = 0.0, differs = 0.0
        for ((pa, pb), pc) in zip(zip(a.namedParameters, b.namedParameters), c.namedParameters) {
            for ((x, y), z) in zip(zip(pa.tensor.scalars, pb.tensor.scalars), pc.tensor.scalars) {
                same = max(same, Double(abs(x - y)))
                differs = max(differs, Double(abs(x - z)))
            }
        }
        XCTAssertLessThan(same, 1e-6)
        XCTAssertGreaterThan(differs, 1e-5, "token weighting of a per-row loss must not match the one-batch step")
    }

    func testEvaluationReportsTheObjectivesMetricsAndNoPerplexityForPerSequenceLosses() throws {
        let (t, _) = try trainer(try TrainingFixtures.tempDir(), objective: PerRowNLL(.sequences), batch: 3, accumulation: 1, evalRows: 7)
        let result = try t.evaluate()
        XCTAssertNil(result.perplexity)
        // Batches of 3, 3 and 1 rows report 3, 3 and 1; weighted by rows: (9 + 9 + 1) / 7.
        XCTAssertEqual(try XCTUnwrap(result.metrics["rows"]), 19.0 / 7.0, accuracy: 1e-12)
        XCTAssertTrue(result.summary.hasPrefix("loss "), result.summary)
        XCTAssertTrue(result.summary.contains("rows 2.714"), result.summary)
        let (sft, _) = try trainer(try TrainingFixtures.tempDir(), objective: TestNLL(), batch: 3, accumulation: 1, evalRows: 7)
        let r = try sft.evaluate()
        XCTAssertEqual(try XCTUnwrap(r.perplexity), exp(r.loss), accuracy: 1e-9)
    }

    func testObjectiveParametersAreTrainedAndCheckpointed() throws {
        let head = NamedParameter(name: "v_head.weight", tensor: Tensor(shape: [1], scalars: [0], requiresGrad: true))
        let objective = PerRowNLL(.sequences, head: head)
        let (t, _) = try trainer(try TrainingFixtures.tempDir(), objective: objective, batch: 4, accumulation: 1,
                                 extraGroups: [ParameterGroup(name: "objective", parameters: [head])])
        try t.train()
        // loss includes (w − 3)²: one SGD step from 0 with lr 0.05 moves w to 0.05 · 6 = 0.3.
        XCTAssertEqual(head.tensor.scalars[0], 0.3, accuracy: 1e-6)
        let saved = try CheckpointStore.load(from: try XCTUnwrap(t.lastCheckpoint))
        XCTAssertEqual(saved.weights["v_head.weight"]?.scalars, head.tensor.scalars)
    }

    func testObjectiveStateIsCheckpointedAndRestoredOnResume() throws {
        func run(_ dir: URL, _ objective: any Objective, resume: URL? = nil, stopAfter: Int? = nil) throws {
            let train = try TrainingFixtures.dataset(try TrainingFixtures.write(TrainingFixtures.additionChats(count: 8), to: dir, name: "train.jsonl"))
            var config = TrainerConfig(outputDir: dir.appendingPathComponent("run"))
            config.perDeviceTrainBatchSize = 2
            config.gradientAccumulationSteps = 2
            config.maxSteps = 3
            config.saveSteps = 1
            config.lrSchedulerType = .constant
            let model = try TrainingFixtures.model()
            try Trainer(policy: model, objective: objective, optimizer: TestMomentumSGD(lr: 0.05), groups: TrainingFixtures.fullGroups(model),
                        trainData: train, padID: TrainingFixtures.tokenizer.padTokenID!, config: config).train(resumeFrom: resume, stopAfter: stopAfter)
        }
        let dir = try TrainingFixtures.tempDir()
        let first = CountingNLL()
        try run(dir, first, stopAfter: 2)
        XCTAssertEqual(first.passes, 4, "2 steps of 2 micro-batches")
        XCTAssertEqual(try CheckpointStore.load(from: dir.appendingPathComponent("run/checkpoint-2")).state.objectiveState, ["passes": 4])
        let resumed = CountingNLL()
        try run(dir, resumed, resume: dir.appendingPathComponent("run/checkpoint-2"))
        XCTAssertEqual(resumed.passes, 6, "the count went on from the checkpoint's 4")
        XCTAssertEqual(try CheckpointStore.load(from: dir.appendingPathComponent("run/checkpoint-3")).state.objectiveState, ["passes": 6])

        // An objective without state writes none; one that needs state refuses such a checkpoint.
        let plain = try TrainingFixtures.tempDir(#function + "-plain")
        try run(plain, TestNLL(), stopAfter: 1)
        XCTAssertNil(try CheckpointStore.load(from: plain.appendingPathComponent("run/checkpoint-1")).state.objectiveState)
        XCTAssertThrowsError(try run(plain, CountingNLL(), resume: plain.appendingPathComponent("run/checkpoint-1"))) {
            XCTAssertEqual("\($0)", "test-counting-nll: the checkpoint holds no 'passes' (objective state [:])")
        }
    }

    func testReferenceUnderPEFTIsTheBaseWithAdaptersSwitchedOff() throws {
        let model = try TrainingFixtures.model()
        let ids = Tensor(shape: [1, 4], int32: [3, 5, 7, 9])
        let base = try model.logits(inputIDs: ids, attentionMask: nil).scalars
        model.layers[0].selfAttn.qProj.adapter = ShiftAdapter()
        model.layers[1].mlp.downProj.adapter = ShiftAdapter()
        let adapted = try model.logits(inputIDs: ids, attentionMask: nil).scalars
        XCTAssertGreaterThan(zip(base, adapted).map { abs($0 - $1) }.max()!, 1e-3)

        let reference = try TrainingSession.reference(of: model)
        XCTAssertTrue(reference is AdapterDisabledReference, "under PEFT the reference is the same weights, not a copy")
        XCTAssertEqual(try reference.logits(inputIDs: ids, attentionMask: nil).scalars, base)
        // The adapters are back afterwards, also when the body throws.
        XCTAssertEqual(try model.logits(inputIDs: ids, attentionMask: nil).scalars, adapted)
        XCTAssertThrowsError(try model.withAdaptersDisabled { throw TrainingError("x") })
        XCTAssertTrue(model.layers[1].mlp.downProj.adapter is ShiftAdapter)
        XCTAssertEqual(try model.logits(inputIDs: ids, attentionMask: nil).scalars, adapted)
    }

    func testFullFineTuningReferenceIsAFrozenCopy() throws {
        let model = try TrainingFixtures.model()
        let ids = Tensor(shape: [1, 4], int32: [3, 5, 7, 9])
        let before = try model.logits(inputIDs: ids, attentionMask: nil).scalars
        let reference = try TrainingSession.reference(of: model)
        XCTAssertFalse(reference is AdapterDisabledReference)
        model.embedTokens.floatPointer[0] += 1
        model.layers[0].mlp.upProj.weight.floatPointer[0] += 1
        XCTAssertEqual(try reference.logits(inputIDs: ids, attentionMask: nil).scalars, before)
        XCTAssertNotEqual(try model.logits(inputIDs: ids, attentionMask: nil).scalars, before)
    }

    func testHiddenStatesFeedTheLMHead() throws {
        let model = try TrainingFixtures.model()
        let ids = Tensor(shape: [2, 3], int32: [3, 5, 7, 9, 11, 13])
        let hidden = try model.hiddenStates(inputIDs: ids, attentionMask: nil)
        XCTAssertEqual(hidden.shape, [2, 3, 32])
        XCTAssertEqual(model.logits(hiddenStates: hidden).scalars, try model.logits(inputIDs: ids, attentionMask: nil).scalars)
    }
}

/// Adds 0.5 to a layer's output.
private final class ShiftAdapter: LinearAdapter {
    func forward(_ x: Tensor, layer: Linear) -> Tensor { layer.baseForward(x) + 0.5 }
    var parameters: [NamedParameter] { [] }
}

/// Mean over rows of each row's mean next-token NLL (a per-sequence loss), plus (w − 3)² for an
/// optional head parameter w; reports the batch's row count as a metric.
private final class PerRowNLL: Objective {
    static let name = "test-per-row-nll"
    static let summary = "test double"
    static let parameters: [ParameterSpec] = []
    var inputKind: ObjectiveInputKind { .batches }
    let lossWeighting: LossWeighting
    let head: NamedParameter?
    init(config: ComponentConfig) throws { lossWeighting = .sequences; head = nil }
    init(_ weighting: LossWeighting, head: NamedParameter? = nil) { lossWeighting = weighting; self.head = head }

    func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { throw TrainingError("batches only") }
        let ids = batch.inputIDs, b = ids.shape[0], t = ids.shape[1]
        let idv = ids.int32Values, mask = batch.lossMask.scalars
        let logits = try context.policy.logits(inputIDs: ids, attentionMask: batch.attentionMask)
        var rows: [Tensor] = []
        for r in 0..<b {
            var targets = [Int32](repeating: -100, count: t)
            for c in 0..<(t - 1) where mask[r * t + c + 1] != 0 { targets[c] = idv[r * t + c + 1] }
            rows.append(Tensor.crossEntropy(logits: logits.narrow(0, start: r, length: 1), targets: Tensor(shape: [1, t], int32: targets)))
        }
        var loss = rows.dropFirst().reduce(rows[0], +) * (1 / Float(b))
        if let head { let d = head.tensor - 3; loss = loss + (d * d).sum() }
        return ObjectiveOutput(loss: loss, metrics: ["rows": Double(b)])
    }
}

/// `TestNLL` that counts its training passes as objective state (`checkpointState`).
private final class CountingNLL: Objective {
    static let name = "test-counting-nll"
    static let summary = "test double"
    static let parameters: [ParameterSpec] = []
    var inputKind: ObjectiveInputKind { .batches }
    let inner = TestNLL()
    var passes = 0.0
    init(config: ComponentConfig) throws {}
    init() {}

    func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        if GradMode.isEnabled { passes += 1 }
        return try inner.loss(input, context: context)
    }

    func checkpointState() -> [String: Double] { ["passes": passes] }

    func restoreState(_ state: [String: Double]) throws {
        guard let p = state["passes"] else { throw TrainingError("test-counting-nll: the checkpoint holds no 'passes' (objective state \(state))") }
        passes = p
    }
}
