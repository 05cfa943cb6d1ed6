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

    func testFullFineTuningCurveIsUnchanged() throws {
        Self.assertCurve(try Self.curve(peft: "full"),
                         equals: [4.22406673, 3.59043694, 3.23012066, 2.94731474, 2.72079253, 2.51826692, 2.31998849, 2.14630151, 1.98292601, 1.83252013])
    }
}
