import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// Loads the built plugin the way `temper` does and checks the loss and its gradient on fixed logits.
final class __Name__Tests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["__component__"])
    }

    func testLossIsMaskedNLLAndItsGradientMatchesFiniteDifferences() throws {
        let objective = try ComponentRegistry.shared.objective("__component__")
        // One sequence of 3 tokens over a vocabulary of 2: logits `[batch, seq, vocab]`.
        let logits = Tensor(shape: [1, 3, 2], scalars: [0, 0, 1, 0, 0, 2], requiresGrad: true)
        let ids = Tensor(shape: [1, 3], int32: [0, 1, 0])
        let batch = TrainingBatch(inputIDs: ids, attentionMask: Tensor.ones([1, 3]), lossMask: Tensor(shape: [1, 3], scalars: [0, 1, 1]))
        let context = ObjectiveContext(policy: FixedLogitsModel(logits))
        let out = try objective.loss(.batch(batch), context: context)
        // Position 0 predicts id 1 from logits [0, 0]; position 1 predicts id 0 from logits [1, 0].
        let expected = -(log(0.5) + log(exp(1) / (exp(1) + 1))) / 2
        XCTAssertEqual(Double(out.loss.item), expected, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["loss_tokens"], 2)
        assertGradientsMatch([logits]) { _ in try objective.loss(.batch(batch), context: context).loss }
    }
}
