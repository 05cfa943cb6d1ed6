import TemperCore
import XCTest

/// Loads the built plugin the way `temper` does and applies it to a two-layer toy model.
final class __Name__Tests: XCTestCase {
    override class func setUp() {
        _ = PluginLoader.shared.load(.standard())
    }

    final class ToyModel: AdaptableModel {
        let linearLayers = [Linear(name: "model.layers.0.mlp.up_proj", weight: Tensor.zeros([4, 3]), bias: Tensor.zeros([4])),
                            Linear(name: "model.layers.0.mlp.down_proj", weight: Tensor.zeros([3, 4]), bias: Tensor.zeros([3]))]
        var namedParameters: [NamedParameter] {
            linearLayers.flatMap { l in
                [NamedParameter(name: l.name + ".weight", tensor: l.weight), NamedParameter(name: l.name + ".bias", tensor: l.bias!)]
            }
        }
    }

    func testTrainsOnlyBiases() throws {
        let method = try ComponentRegistry.shared.peft("__component__")
        let model = ToyModel()
        let counts = try method.apply(to: model)
        XCTAssertEqual(counts, ParameterCount(trainable: 7, total: 31))
        XCTAssertEqual(method.trainableGroups().flatMap(\.parameters).map(\.name).sorted(),
                       ["model.layers.0.mlp.down_proj.bias", "model.layers.0.mlp.up_proj.bias"])
        XCTAssertTrue(model.namedParameters.allSatisfy { $0.tensor.requiresGrad == $0.name.hasSuffix(".bias") })
        XCTAssertEqual(try method.export().tensors.count, 2)
    }

    func testNoMatchingParameterIsAnError() throws {
        let method = try ComponentRegistry.shared.peft("__component__:suffix=.nothing")
        XCTAssertThrowsError(try method.apply(to: ToyModel()))
    }
}
