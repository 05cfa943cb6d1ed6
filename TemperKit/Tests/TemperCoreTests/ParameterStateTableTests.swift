import Foundation
import TemperCore
import XCTest

/// The optimizer state helpers plugins build on: per-parameter slots created on first use, step
/// counts, and an exact, strict round trip through `OptimizerState`.
final class ParameterStateTableTests: XCTestCase {
    private func target(_ name: String, _ values: [Float], grad: [Float]? = nil) throws -> UpdateTarget {
        let t = Tensor(shape: [values.count], scalars: values, requiresGrad: true)
        t.grad = Tensor(shape: [values.count], scalars: grad ?? values)
        return try XCTUnwrap(try UpdateTarget(NamedParameter(name: name, tensor: t), optimizer: "probe"))
    }

    func testSlotsAreCreatedZeroOnceAndStepsCount() throws {
        var table = ParameterStateTable(optimizer: "probe", slots: ["exp_avg", "exp_avg_sq"], countsSteps: true)
        let w = try target("w", [1, 2, 3])
        let first = try table.advance(w)
        XCTAssertEqual(first.tensors.map(\.scalars), [[0, 0, 0], [0, 0, 0]])
        XCTAssertEqual(first.step, 1)
        XCTAssertTrue(first.isNew)
        first.tensors[1].floatPointer[2] = 7
        let second = try table.advance(w)
        XCTAssertTrue(second.tensors[1] === first.tensors[1])
        XCTAssertEqual(second.step, 2)
        XCTAssertFalse(second.isNew)
        let state = table.state()
        XCTAssertEqual(state.tensors.keys.sorted(), ["exp_avg.w", "exp_avg_sq.w"])
        XCTAssertEqual(state.tensors["exp_avg_sq.w"]?.scalars, [0, 0, 7])
        XCTAssertEqual(state.scalars, ["step.w": 2])
    }

    func testLoadRestoresCopiesAndContinuesTheCount() throws {
        var table = ParameterStateTable(optimizer: "probe", slots: ["m"], countsSteps: true)
        let saved = OptimizerState(tensors: ["m.layer.0.w": Tensor([4, 5])], scalars: ["step.layer.0.w": 3])
        try table.load(saved)
        try XCTUnwrap(saved.tensors["m.layer.0.w"]).floatPointer[0] = -1   // the table holds a copy
        let entry = try table.advance(try target("layer.0.w", [1, 1]))
        XCTAssertEqual(entry.tensors[0].scalars, [4, 5])
        XCTAssertEqual(entry.step, 4)
        XCTAssertFalse(entry.isNew)
    }

    func testForeignOrIncompleteStateIsRefused() throws {
        var adam = ParameterStateTable(optimizer: "probe", slots: ["exp_avg", "exp_avg_sq"], countsSteps: true)
        let cases: [(OptimizerState, String)] = [
            (OptimizerState(tensors: ["momentum.w": Tensor([1])]), "probe: unexpected state tensor 'momentum.w'"),
            (OptimizerState(scalars: ["lr": 1]), "probe: unexpected state scalar 'lr'"),
            (OptimizerState(scalars: ["step.w": 1]), "probe: saved state lacks exp_avg / exp_avg_sq of w"),
            (OptimizerState(scalars: ["step.w": 1e300]), "probe: state scalar 'step.w' = 1e+300 is not a step count"),
            (OptimizerState(scalars: ["step.w": 2.5]), "probe: state scalar 'step.w' = 2.5 is not a step count"),
            (OptimizerState(tensors: ["exp_avg.w": Tensor([1]), "exp_avg_sq.w": Tensor([1, 2])], scalars: ["step.w": 1]),
             "probe: saved state of w has exp_avg / exp_avg_sq of different shapes or not float32"),
            (OptimizerState(tensors: ["exp_avg.w": Tensor([1]), "exp_avg_sq.w": Tensor([1])]),
             "probe: saved state of w lacks its step count 'step.w'"),
        ]
        for (state, message) in cases {
            XCTAssertThrowsError(try adam.load(state), message) { XCTAssertEqual("\($0)", message) }
        }
        var lion = ParameterStateTable(optimizer: "probe", slots: ["exp_avg"], countsSteps: false)
        XCTAssertThrowsError(try lion.load(OptimizerState(tensors: ["exp_avg.w": Tensor([1])], scalars: ["step.w": 1]))) {
            XCTAssertEqual("\($0)", "probe: unexpected state scalar 'step.w'")
        }
        try lion.load(OptimizerState(tensors: ["exp_avg.w": Tensor([1, 2])]))
        XCTAssertThrowsError(try lion.advance(try target("w", [1, 2, 3]))) {
            XCTAssertEqual("\($0)", "probe: saved state of w has shape [2], the parameter [3]")
        }
    }

    func testUpdateTargetSkipsFrozenAndRefusesMisshapedGradients() throws {
        let frozen = NamedParameter(name: "f", tensor: Tensor([1, 2]))
        XCTAssertNil(try UpdateTarget(frozen, optimizer: "probe"))
        let p = Tensor([1, 2], requiresGrad: true)
        p.grad = Tensor([1, 2, 3])
        XCTAssertThrowsError(try UpdateTarget(NamedParameter(name: "p", tensor: p), optimizer: "probe")) {
            XCTAssertEqual("\($0)", "probe: gradient of p has shape [3], the parameter [2]")
        }
    }
}
