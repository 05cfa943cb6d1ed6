import TemperCore
import TemperTestSupport
import XCTest

/// The training-speed work (issue 13) may reorder memory and work but must not change results: a
/// LoRA SFT run's and a full fine-tuning run's loss curves on the tiny model equal the curves
/// recorded before it began (printed by this test on main at d50c741, whose autograd graph kept
/// every op's inputs alive until backward).
final class LoRALossCurveTests: XCTestCase {
    /// Ten AdamW steps of the SFT objective on one fixed batch; returns the loss of each step.
    static func curve(peft spec: String) throws -> [Float] {
        PEFTTestSupport.loadPlugins()
        let model = try TinyLlama.model(seed: 5)
        let peft = try ComponentRegistry.shared.peft(spec)
        _ = try peft.apply(to: model)
        let groups = peft.trainableGroups()
        let objective = try ComponentRegistry.shared.objective("sft")
        let optimizer = try ComponentRegistry.shared.optimizer("adamw:lr=1e-2")
        var rng = PhiloxRNG(seed: 11)
        let ids = Tensor(shape: [4, 12], int32: (0..<48).map { _ in Int32(rng.next32() % 61) })
        let ones = Tensor.ones([4, 12])
        let batch = TrainingBatch(inputIDs: ids, attentionMask: ones, lossMask: ones)
        var losses: [Float] = []
        for _ in 0..<10 {
            let out = try objective.loss(.batch(batch), context: ObjectiveContext(policy: model))
            losses.append(out.loss.scalars[0])
            out.loss.backward()
            try optimizer.step(groups)
            for p in groups.flatMap(\.parameters) { p.tensor.grad = nil }
        }
        return losses
    }

    static func assertCurve(_ actual: [Float], equals expected: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "steps; curve \(actual.map { String(format: "%.9g", $0) })", file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            XCTAssertEqual(a, e, accuracy: 2e-6 * max(1, abs(e)), "step \(i + 1); curve \(actual.map { String(format: "%.9g", $0) })", file: file, line: line)
        }
        XCTAssertLessThan(actual.last ?? .infinity, (actual.first ?? 0) * 0.9, "the run learns", file: file, line: line)
    }

    func testLoRACurveIsUnchanged() throws {
        Self.assertCurve(try Self.curve(peft: "lora:r=8,alpha=16,target_modules=all-linear"),
                         equals: [4.22406673, 3.85151839, 3.59018564, 3.3945508, 3.22108054, 3.06196976, 2.92757249, 2.80828571, 2.71185899, 2.60837889])
    }

    /// `bf16: true`: the products in bf16 with float32 accumulation move the curve by bf16's rounding
    /// only — close to the float32 curve, yet not equal to it (so the bf16 tile did run).
    func testBF16LoRACurveIsCloseToFloat32() throws {
        guard GEMMPrecision.bf16Supported else {
            print("skipped: this CPU lacks AVX512_BF16")
            throw XCTSkip("this CPU lacks AVX512_BF16")
        }
        let spec = "lora:r=8,alpha=16,target_modules=all-linear"
        let float32 = try Self.curve(peft: spec)
        let bf16 = try GEMMPrecision.using(.bf16) { try Self.curve(peft: spec) }
        XCTAssertEqual(GEMMPrecision.active, .float32)
        for (i, (b, f)) in zip(bf16, float32).enumerated() {
            XCTAssertEqual(b, f, accuracy: 1e-2 * f, "step \(i + 1): bf16 \(bf16) vs float32 \(float32)")
        }
        XCTAssertGreaterThan(zip(bf16, float32).map { abs($0 - $1) }.max() ?? 0, 1e-6, "bf16 and float32 curves are identical")
    }

    /// The recipe's `bf16` reaches the GEMM while its session trains, and only then: building the
    /// session changes nothing else in the process, and the precision is float32 again after.
    func testRecipeFieldBF16SetsThePrecision() throws {
        guard GEMMPrecision.bf16Supported else { throw XCTSkip("this CPU lacks AVX512_BF16") }
        PEFTTestSupport.loadPlugins()
        let data = try makeTemporaryFolder("bf16-data").appendingPathComponent("train.jsonl")
        // Long enough (> 16 rows) for the packed GEMM: shorter products take the float32 small-batch path.
        let text = String(repeating: "one plus two makes three. ", count: 8)
        try "{\"text\": \"\(text)\"}\n".write(to: data, atomically: true, encoding: .utf8)
        func session(bf16: Bool) throws -> TrainingSession {
            var recipe = TrainingRecipe()
            for (k, v) in [("train_file", data.path), ("output_dir", try makeTemporaryFolder("bf16-run").path),
                           ("peft", "lora:r=4,target_modules=all-linear"), ("max_steps", "1"), ("bf16", bf16 ? "true" : "false")] {
                try recipe.set(k, .text(v))
            }
            return try TrainingSession(recipe: recipe, pretrained: try PretrainedModel.load(from: PEFTTestSupport.tinyDir))
        }
        let half = try session(bf16: true)
        XCTAssertEqual(half.trainer.precision, .bf16)
        XCTAssertEqual(GEMMPrecision.active, .float32, "building a session sets nothing process-wide")
        let halfLoss = try XCTUnwrap(half.trainer.train().lastLoss)
        XCTAssertEqual(GEMMPrecision.active, .float32, "restored after training")
        let fullLoss = try XCTUnwrap(session(bf16: false).trainer.train().lastLoss)
        XCTAssertNotEqual(halfLoss, fullLoss, "bf16 products round their inputs: the loss moves")
        XCTAssertEqual(halfLoss, fullLoss, accuracy: 0.01 * abs(fullLoss))
    }

    func testFullFineTuningCurveIsUnchanged() throws {
        Self.assertCurve(try Self.curve(peft: "full"),
                         equals: [4.22406673, 3.59043694, 3.23012066, 2.94731474, 2.72079253, 2.51826692, 2.31998849, 2.14630151, 1.98292601, 1.83252013])
    }
}
