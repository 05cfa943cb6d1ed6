import Foundation
import TemperCore
import XCTest

/// Loads the built plugin the way `temper` does and checks the method on a two-layer toy model:
/// what trains, the exported adapter reloading into a fresh model, and merging.
final class __Name__Tests: XCTestCase {
    override class func setUp() {
        // The test runner sits in the build folder, next to libTemperPlugin__Name__.so.
        _ = PluginLoader.shared.load(.standard())
    }

    /// up_proj `[4, 3]` then down_proj `[3, 4]`, with biases; fixed non-zero weights, so two
    /// instances are the same model.
    final class ToyModel: AdaptableModel {
        let linearLayers = [
            Linear(name: "model.layers.0.mlp.up_proj", weight: ToyModel.values([4, 3], 1), bias: ToyModel.values([4], 2)),
            Linear(name: "model.layers.0.mlp.down_proj", weight: ToyModel.values([3, 4], 3), bias: ToyModel.values([3], 4)),
        ]
        var namedParameters: [NamedParameter] {
            linearLayers.flatMap { l in
                [NamedParameter(name: l.name + ".weight", tensor: l.weight), NamedParameter(name: l.name + ".bias", tensor: l.bias!)]
            }
        }

        static func values(_ shape: [Int], _ offset: Float) -> Tensor {
            Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { sin(Float($0) + offset) * 0.5 })
        }

        func callAsFunction(_ x: Tensor) -> Tensor { withNoGrad { linearLayers[1](linearLayers[0](x)) } }
    }

    let input = Tensor(shape: [2, 3], scalars: [0.3, -1, 0.5, 2, 0.1, -0.4])

    /// The method applied to `model` with B moved away from zero (a trained adapter).
    func trainedMethod(on model: ToyModel) throws -> any PEFTMethod {
        let method = try ComponentRegistry.shared.peft("__component__:r=2,alpha=4,target_modules=all-linear,seed=5")
        _ = try method.apply(to: model)
        for (i, p) in method.trainableGroups().flatMap(\.parameters).enumerated() {
            p.tensor.withUnsafeMutableBufferPointer { b in for j in 0..<b.count { b[j] = cos(Float(i * 7 + j)) * 0.3 } }
        }
        return method
    }

    func testAppliesTrainableBOnly() throws {
        let method = try ComponentRegistry.shared.peft("__component__:r=2,target_modules=all-linear")
        let model = ToyModel()
        let base = model(input).scalars
        // Trainable: B of up_proj [4, 2] and of down_proj [3, 2]; total adds the base (31) and A (2·3 + 2·4).
        XCTAssertEqual(try method.apply(to: model), ParameterCount(trainable: 14, total: 59))
        XCTAssertEqual(method.trainableGroups().flatMap(\.parameters).map(\.name),
                       ["model.layers.0.mlp.up_proj.B.weight", "model.layers.0.mlp.down_proj.B.weight"])
        XCTAssertTrue(model.namedParameters.allSatisfy { !$0.tensor.requiresGrad })
        XCTAssertEqual(model(input).scalars, base, "B starts at zero: the adapted model starts as the base one")
    }

    func testExportReloadsIdenticallyAndMergeReproducesTheAdaptedOutput() throws {
        let model = ToyModel()
        let base = model(input).scalars
        _ = try trainedMethod(on: model)
        let adapted = model(input).scalars
        XCTAssertNotEqual(adapted, base)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("__component__-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let export = try trainedMethod(on: ToyModel()).export()
        XCTAssertEqual(export.config["peft_type"], .string("__SYMBOL__"))
        XCTAssertEqual(export.tensors.keys.sorted().first, "base_model.model.model.layers.0.mlp.down_proj.A.weight")
        XCTAssertEqual(export.tensors["base_model.model.model.layers.0.mlp.up_proj.B.weight"]?.shape, [4, 2])
        try PEFTAdapterFiles.write(export, to: dir)

        // The host finds this method from the saved peft_type, through the registry.
        let fresh = ToyModel()
        let reloaded = try PEFTAdapterLoader.load(from: dir, into: fresh)
        XCTAssertEqual(type(of: reloaded).name, "__component__")
        XCTAssertEqual(fresh(input).scalars, adapted)

        try reloaded.merge(into: fresh)
        XCTAssertTrue(fresh.linearLayers.allSatisfy { $0.adapter == nil })
        for (got, want) in zip(fresh(input).scalars, adapted) { XCTAssertEqual(got, want, accuracy: 1e-5) }
        try reloaded.unmerge(from: fresh)
        XCTAssertEqual(fresh(input).scalars, adapted)
    }

    func testNoMatchingModuleIsAnError() throws {
        let method = try ComponentRegistry.shared.peft("__component__:target_modules=[o_proj]")
        XCTAssertThrowsError(try method.apply(to: ToyModel())) { e in
            XCTAssertEqual("\(e)", "__component__: target_modules [\"o_proj\"] matches no linear layer")
        }
    }
}
