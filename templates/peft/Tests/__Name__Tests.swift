import TemperCore
import XCTest

/// Loads the built plugin the way `temper` does and applies it to a two-layer toy model.
final class __Name__Tests: XCTestCase {
    override class func setUp() {
        _ = PluginLoader.shared.load(.standard())
    }

    final class ToyLinear: AdaptableLinear {
        var weight: Tensor
        var bias: Tensor?
        var adapter: (any LinearAdapter)?
        init(out: Int, inputs: Int) { weight = Tensor.zeros([out, inputs]); bias = Tensor.zeros([out]) }
    }

    final class ToyModel: AdaptableModel {
        let layers = ["model.layers.0.mlp.up_proj": ToyLinear(out: 4, inputs: 3), "model.layers.0.mlp.down_proj": ToyLinear(out: 3, inputs: 4)]
        var linearLayers: [String: any AdaptableLinear] { layers }
        var namedParameters: [NamedParameter] {
            layers.keys.sorted().flatMap { name in
                [NamedParameter(name: name + ".weight", tensor: layers[name]!.weight), NamedParameter(name: name + ".bias", tensor: layers[name]!.bias!)]
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
