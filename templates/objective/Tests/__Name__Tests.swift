import Foundation
import TemperCore
import XCTest

/// Loads the built plugin the way `temper` does and checks the loss and its gradient on a toy model.
final class __Name__Tests: XCTestCase {
    override class func setUp() {
        _ = PluginLoader.shared.load(.standard())
    }

    /// Logits that ignore the input: one trainable row per position, `[seq, vocab]`.
    final class TableModel: TrainableLanguageModel {
        let table: Tensor
        init(_ table: Tensor) { self.table = table }
        func logits(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
            table.unsqueeze(0).expand([inputIDs.size(0)] + table.shape)
        }
    }

    func testLossIsMaskedNLLAndHasAGradient() throws {
        let objective = try ComponentRegistry.shared.objective("__component__")
        let table = Tensor(shape: [3, 2], scalars: [0, 0, 1, 0, 0, 2], requiresGrad: true)
        let ids = Tensor(shape: [1, 3], int32: [0, 1, 0])
        let batch = TrainingBatch(inputIDs: ids, attentionMask: Tensor.ones([1, 3]), lossMask: Tensor(shape: [1, 3], scalars: [0, 1, 1]))
        let out = try objective.loss(.batch(batch), context: ObjectiveContext(policy: TableModel(table)))
        // Position 0 predicts id 1 from logits [0, 0]; position 1 predicts id 0 from logits [1, 0].
        let expected = -(log(0.5) + log(exp(1) / (exp(1) + 1))) / 2
        XCTAssertEqual(Double(out.loss.item), expected, accuracy: 1e-5)
        XCTAssertEqual(out.metrics["loss_tokens"], 2)
        out.loss.backward()
        XCTAssertNotNil(table.grad)
    }
}
