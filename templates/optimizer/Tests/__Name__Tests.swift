import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// Loads the built plugin the way `temper` does: the update against its formula worked by hand,
/// convergence on a quadratic, and an interrupted run resuming bit for bit.
final class __Name__Tests: XCTestCase {
    override func setUp() {
        // The test runner sits in the build folder, next to libTemperPlugin__Name__.so.
        TestPlugins.loadBuilt(requiring: ["__component__"])
    }

    private func step(_ opt: any Optimizer, _ p: Tensor, gradient: [Float]) throws {
        p.grad = Tensor(gradient)
        try opt.step([ParameterGroup(parameters: [NamedParameter(name: "p", tensor: p)])])
    }

    func testTwoStepsMatchTheFormula() throws {
        let opt = try ComponentRegistry.shared.optimizer("__component__:lr=0.1,alpha=0.9,eps=0.01,weight_decay=0.5")
        let p = Tensor([1, -2], requiresGrad: true)
        var theta: [Double] = [1, -2], v: [Double] = [0, 0]
        for (t, gradient) in [[0.5, 1], [-1, 0.25]].enumerated() {
            try step(opt, p, gradient: gradient.map { Float($0) })
            for i in 0..<2 {
                let g = gradient[i] + 0.5 * theta[i]
                v[i] = 0.9 * v[i] + 0.1 * g * g
                theta[i] -= 0.1 * g / ((v[i] / (1 - pow(0.9, Double(t + 1)))).squareRoot() + 0.01)
            }
            for (got, want) in zip(p.scalars, theta) { XCTAssertEqual(Double(got), want, accuracy: 1e-5, "step \(t + 1)") }
        }
        XCTAssertEqual(opt.state().scalars, ["step.p": 2])
        for (got, want) in zip(try XCTUnwrap(opt.state().tensors["square_avg.p"]).scalars, v) { XCTAssertEqual(Double(got), want, accuracy: 1e-6) }
    }

    func testMinimizesAQuadratic() throws {
        let opt = try ComponentRegistry.shared.optimizer("__component__:lr=0.01")
        let target: [Float] = [3, -1, 0.5]
        let p = Tensor.zeros([3], requiresGrad: true)
        for _ in 0..<2000 { try step(opt, p, gradient: zip(p.scalars, target).map { $0 - $1 }) }   // ∇ ½‖θ − t‖²
        assertClose(p.scalars, target, tol: 0.01)
    }

    /// N steps straight equal k steps, state saved, a new optimizer loading it, N − k steps.
    func testResumeFromSavedStateIsBitwiseExact() throws {
        let spec = "__component__:lr=0.05,alpha=0.95,weight_decay=0.1"
        func gradient(_ theta: [Float]) -> [Float] { theta.enumerated().map { i, x in Float(i % 4 + 1) * (x - Float(i) * 0.1) } }
        let start = (0..<19).map { Float($0) * 0.3 - 2 }
        let straight = Tensor(shape: [19], scalars: start, requiresGrad: true)
        let opt = try ComponentRegistry.shared.optimizer(spec)
        for _ in 0..<6 { try step(opt, straight, gradient: gradient(straight.scalars)) }

        let resumed = Tensor(shape: [19], scalars: start, requiresGrad: true)
        let first = try ComponentRegistry.shared.optimizer(spec)
        for _ in 0..<3 { try step(first, resumed, gradient: gradient(resumed.scalars)) }
        let saved = first.state()
        let second = try ComponentRegistry.shared.optimizer(spec)
        try second.load(state: saved)
        for _ in 0..<3 { try step(second, resumed, gradient: gradient(resumed.scalars)) }
        XCTAssertEqual(resumed.scalars.map(\.bitPattern), straight.scalars.map(\.bitPattern))
    }

    func testForeignStateIsRefused() throws {
        let opt = try ComponentRegistry.shared.optimizer("__component__")
        XCTAssertThrowsError(try opt.load(state: OptimizerState(scalars: ["step.p": 1]))) { e in
            XCTAssertEqual("\(e)", "__component__: saved state lacks square_avg of p")
        }
        XCTAssertThrowsError(try opt.load(state: OptimizerState(tensors: ["exp_avg.p": Tensor([1])]))) { e in
            XCTAssertEqual("\(e)", "__component__: unexpected state tensor 'exp_avg.p'")
        }
    }
}
