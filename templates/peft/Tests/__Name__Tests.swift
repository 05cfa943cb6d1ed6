import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// Loads the built plugin the way `temper` does and checks the method on a toy MLP (up_proj
/// `[4, 3]` then down_proj `[3, 4]`, with biases, the same seeded weights in every instance):
/// what trains, the exported adapter reloading into a fresh model, and merging.
final class __Name__Tests: XCTestCase {
    override func setUp() {
        // The test runner sits in the build folder, next to libTemperPlugin__Name__.so.
        TestPlugins.loadBuilt(requiring: ["__component__"])
    }

    let input = Tensor(shape: [2, 3], scalars: [0.3, -1, 0.5, 2, 0.1, -0.4])

    func output(_ model: ToyAdaptableModel) -> [Float] { withNoGrad { model.forward(input) }.scalars }

    /// The method applied to `model` with B moved away from zero (a trained adapter).
    func trainedMethod(on model: ToyAdaptableModel) throws -> any PEFTMethod {
        let method = try ComponentRegistry.shared.peft("__component__:r=2,alpha=4,target_modules=all-linear,seed=5")
        _ = try method.apply(to: model)
        for (i, p) in method.trainableGroups().flatMap(\.parameters).enumerated() {
            p.tensor.withUnsafeMutableBufferPointer { b in for j in 0..<b.count { b[j] = cos(Float(i * 7 + j)) * 0.3 } }
        }
        return method
    }

    func testAppliesTrainableBOnly() throws {
        let method = try ComponentRegistry.shared.peft("__component__:r=2,target_modules=all-linear")
        let model = ToyAdaptableModel()
        let base = output(model)
        // Trainable: B of up_proj [4, 2] and of down_proj [3, 2]; total adds the base (31) and A (2·3 + 2·4).
        XCTAssertEqual(try method.apply(to: model), ParameterCount(trainable: 14, total: 59))
        XCTAssertEqual(method.trainableGroups().flatMap(\.parameters).map(\.name),
                       ["model.layers.0.mlp.up_proj.B.weight", "model.layers.0.mlp.down_proj.B.weight"])
        XCTAssertTrue(model.namedParameters.allSatisfy { !$0.tensor.requiresGrad })
        XCTAssertEqual(output(model), base, "B starts at zero: the adapted model starts as the base one")
    }

    func testExportReloadsIdenticallyAndMergeReproducesTheAdaptedOutput() throws {
        let model = ToyAdaptableModel()
        let base = output(model)
        _ = try trainedMethod(on: model)
        let adapted = output(model)
        XCTAssertNotEqual(adapted, base)

        let dir = try makeTemporaryFolder("__component__")
        let export = try trainedMethod(on: ToyAdaptableModel()).export()
        XCTAssertEqual(export.config["peft_type"], .string("__SYMBOL__"))
        XCTAssertEqual(export.tensors.keys.sorted().first, "base_model.model.model.layers.0.mlp.down_proj.A.weight")
        XCTAssertEqual(export.tensors["base_model.model.model.layers.0.mlp.up_proj.B.weight"]?.shape, [4, 2])
        try PEFTAdapterFiles.write(export, to: dir)

        // The host finds this method from the saved peft_type, through the registry.
        let fresh = ToyAdaptableModel()
        let reloaded = try PEFTAdapterLoader.load(from: dir, into: fresh)
        XCTAssertEqual(type(of: reloaded).name, "__component__")
        XCTAssertEqual(output(fresh), adapted)

        try reloaded.merge(into: fresh)
        XCTAssertTrue(fresh.linearLayers.allSatisfy { $0.adapter == nil })
        assertClose(output(fresh), adapted, tol: 1e-5)
        try reloaded.unmerge(from: fresh)
        XCTAssertEqual(output(fresh), adapted)
    }

    func testNoMatchingModuleIsAnError() throws {
        let method = try ComponentRegistry.shared.peft("__component__:target_modules=[o_proj]")
        XCTAssertThrowsError(try method.apply(to: ToyAdaptableModel())) { e in
            XCTAssertEqual("\(e)", "__component__: target_modules [\"o_proj\"] matches no linear layer")
        }
    }
}
