import TemperCore
import XCTest

/// Loads the built plugin the way `temper` does and checks the optimizer on a quadratic.
final class __Name__Tests: XCTestCase {
    override class func setUp() {
        // The test runner sits in the build folder, next to libTemperPlugin__Name__.so.
        _ = PluginLoader.shared.load(.standard())
    }

    func testUpdateMatchesFormula() throws {
        let opt = try ComponentRegistry.shared.optimizer("__component__:lr=0.1,weight_decay=0.5")
        let p = Tensor([1, -2], requiresGrad: true)
        p.grad = Tensor([0.5, 1])
        try opt.step([ParameterGroup(parameters: [NamedParameter(name: "p", tensor: p)])])
        XCTAssertEqual(p.scalars[0], 1 - 0.1 * (0.5 + 0.5 * 1), accuracy: 1e-6)
        XCTAssertEqual(p.scalars[1], -2 - 0.1 * (1 + 0.5 * -2), accuracy: 1e-6)
    }

    func testMinimizesAQuadratic() throws {
        let opt = try ComponentRegistry.shared.optimizer("__component__:lr=0.2")
        let target: [Float] = [3, -1, 0.5]
        let p = Tensor.zeros([3], requiresGrad: true)
        for _ in 0..<200 {
            p.grad = Tensor(zip(p.scalars, target).map { $0 - $1 })   // ∇ ½‖θ − t‖²
            try opt.step([ParameterGroup(parameters: [NamedParameter(name: "p", tensor: p)])])
        }
        for (got, want) in zip(p.scalars, target) { XCTAssertEqual(got, want, accuracy: 1e-4) }
    }
}
