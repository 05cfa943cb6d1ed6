import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// The optimizers, loaded from the built libTemperPluginOptimizers.so through the plugin loader
/// (the same path `temper` takes), minimizing known problems and matching their update formulas.
final class OptimizerTests: XCTestCase {
    override func setUp() {
        // The test runner lives in the build folder, beside libTemperPluginOptimizers.so.
        TestPlugins.loadBuilt(requiring: ["sgd", "adam", "adamw"])
    }

    private func make(_ spec: String) throws -> any Optimizer {
        try ComponentRegistry.shared.optimizer(spec)
    }

    /// f(θ) = ½ Σ cᵢ (θᵢ − tᵢ)², gradient cᵢ(θᵢ − tᵢ); 19 elements so both SIMD and tail loops run.
    private func minimizeQuadratic(_ spec: String, steps: Int) throws -> [Float] {
        let opt = try make(spec)
        let n = 19
        let target = (0..<n).map { Float($0) * 0.1 - 0.7 }
        let curvature = (0..<n).map { 0.5 + Float($0 % 4) * 0.5 }
        let theta = Tensor(shape: [n], scalars: [Float](repeating: 2, count: n), requiresGrad: true)
        for _ in 0..<steps {
            let values = theta.scalars
            theta.grad = Tensor(shape: [n], scalars: (0..<n).map { curvature[$0] * (values[$0] - target[$0]) })
            try opt.step([ParameterGroup(parameters: [NamedParameter(name: "theta", tensor: theta)])])
        }
        return zip(theta.scalars, target).map { abs($0 - $1) }
    }

    func testEachOptimizerMinimizesAQuadratic() throws {
        for spec in ["sgd:lr=0.3", "sgd:lr=0.1,momentum=0.9", "sgd:lr=0.1,momentum=0.9,nesterov=true",
                     "adamw:lr=0.05,weight_decay=0", "adam:lr=0.05"] {
            let errors = try minimizeQuadratic(spec, steps: 400)
            XCTAssertLessThan(errors.max()!, 1e-3, spec)
        }
    }

    /// Least squares min ½‖Ax − b‖² with a consistent system, so the minimizer is known exactly.
    func testEachOptimizerSolvesLeastSquares() throws {
        let rows = 12, cols = 5
        var rng = PhiloxRNG(seed: 7)
        let a = Tensor.randn([rows, cols], rng: &rng).scalars
        let xTrue: [Float] = [1, -2, 0.5, 3, -1]
        let b = (0..<rows).map { i in (0..<cols).reduce(Float(0)) { $0 + a[i * cols + $1] * xTrue[$1] } }
        for (spec, steps) in [("sgd:lr=0.02,momentum=0.9", 1500), ("adamw:lr=0.05,weight_decay=0", 1500), ("adam:lr=0.05", 1500)] {
            let opt = try make(spec)
            let x = Tensor.zeros([cols], requiresGrad: true)
            for _ in 0..<steps {
                let xv = x.scalars
                let r = (0..<rows).map { i in (0..<cols).reduce(Float(0)) { $0 + a[i * cols + $1] * xv[$1] } - b[i] }
                x.grad = Tensor(shape: [cols], scalars: (0..<cols).map { j in (0..<rows).reduce(Float(0)) { $0 + a[$1 * cols + j] * r[$1] } })
                try opt.step([ParameterGroup(parameters: [NamedParameter(name: "x", tensor: x)])])
            }
            for (got, want) in zip(x.scalars, xTrue) { XCTAssertEqual(got, want, accuracy: 2e-3, spec) }
        }
    }

    func testSGDUpdateMatchesFormula() throws {
        let opt = try make("sgd:lr=0.1,momentum=0.9,dampening=0.5,weight_decay=0.01")
        let p = Tensor([1, -2, 3], requiresGrad: true)
        let g1: [Float] = [0.5, 0.25, -1], g2: [Float] = [-0.5, 1, 2]
        p.grad = Tensor(g1)
        try opt.step([ParameterGroup(parameters: [NamedParameter(name: "p", tensor: p)])])
        // Step 1: g = ∇ + λθ, buffer = g (no dampening on the first step), θ −= η·buffer.
        var theta: [Float] = [1, -2, 3]
        var buf = zip(g1, theta).map { $0 + 0.01 * $1 }
        theta = zip(theta, buf).map { $0 - 0.1 * $1 }
        assertClose(p.scalars, theta, tol: 1e-6)
        p.grad = Tensor(g2)
        try opt.step([ParameterGroup(parameters: [NamedParameter(name: "p", tensor: p)])])
        let g = zip(g2, theta).map { $0 + 0.01 * $1 }
        buf = zip(buf, g).map { 0.9 * $0 + 0.5 * $1 }
        theta = zip(theta, buf).map { $0 - 0.1 * $1 }
        assertClose(p.scalars, theta, tol: 1e-6)
    }

    func testNesterovUpdateMatchesFormula() throws {
        let opt = try make("sgd:lr=0.5,momentum=0.8,nesterov=true")
        let p = Tensor([2], requiresGrad: true)
        p.grad = Tensor([1])
        try opt.step([ParameterGroup(parameters: [NamedParameter(name: "p", tensor: p)])])
        // buffer = 1; step = g + μ·buffer = 1.8; θ = 2 − 0.5·1.8
        XCTAssertEqual(p.scalars[0], 2 - 0.5 * 1.8, accuracy: 1e-6)
        p.grad = Tensor([3])
        try opt.step([ParameterGroup(parameters: [NamedParameter(name: "p", tensor: p)])])
        let buffer: Float = 0.8 * 1 + 3
        let update: Float = 3 + 0.8 * buffer
        let expected: Float = 1.1 - 0.5 * update
        XCTAssertEqual(p.scalars[0], expected, accuracy: 1e-6)
    }

    func testAdamWUpdateMatchesFormulaOverTwoSteps() throws {
        try checkAdam("adamw:lr=0.01,beta1=0.8,beta2=0.9,eps=1e-6,weight_decay=0.1", decoupled: true)
        try checkAdam("adam:lr=0.01,beta1=0.8,beta2=0.9,eps=1e-6,weight_decay=0.1", decoupled: false)
    }

    private func checkAdam(_ spec: String, decoupled: Bool) throws {
        let opt = try make(spec)
        let n = 11
        let start = (0..<n).map { Float($0) - 5 }
        let first: [Float] = (0..<n).map { Float($0) * 0.3 - 1 }
        let second: [Float] = (0..<n).map { Float(n - $0) * 0.2 }
        let grads = [first, second]
        let p = Tensor(shape: [n], scalars: start, requiresGrad: true)
        var theta = start.map(Double.init)
        var m = [Double](repeating: 0, count: n), v = m
        let lr = 0.01, b1 = 0.8, b2 = 0.9, eps = 1e-6, wd = 0.1
        for (t, grad) in grads.enumerated() {
            p.grad = Tensor(shape: [n], scalars: grad)
            try opt.step([ParameterGroup(parameters: [NamedParameter(name: "p", tensor: p)])])
            let step = Double(t + 1)
            for i in 0..<n {
                var g = Double(grad[i])
                if decoupled { theta[i] *= 1 - lr * wd } else { g += wd * theta[i] }
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                let mHat = m[i] / (1 - pow(b1, step)), vHat = v[i] / (1 - pow(b2, step))
                theta[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
            assertClose(p.scalars, theta.map(Float.init), tol: 1e-5)
        }
    }

    func testGroupScaleAndDecayOverride() throws {
        let opt = try make("sgd:lr=0.1,weight_decay=0.5")
        let a = Tensor([1], requiresGrad: true), b = Tensor([1], requiresGrad: true)
        a.grad = Tensor([1]); b.grad = Tensor([1])
        try opt.step([ParameterGroup(name: "A", parameters: [NamedParameter(name: "a", tensor: a)]),
                      ParameterGroup(name: "B", parameters: [NamedParameter(name: "b", tensor: b)], learningRateScale: 4, weightDecay: 0)])
        XCTAssertEqual(a.scalars[0], 1 - 0.1 * 1.5, accuracy: 1e-6)
        XCTAssertEqual(b.scalars[0], 1 - 0.4 * 1, accuracy: 1e-6)
        opt.learningRate = 0.2
        a.grad = Tensor([0])
        try opt.step([ParameterGroup(parameters: [NamedParameter(name: "a", tensor: a)])])
        XCTAssertEqual(a.scalars[0], 0.85 - 0.2 * 0.5 * 0.85, accuracy: 1e-6)
    }

    func testParametersWithoutGradientAreSkipped() throws {
        let opt = try make("adamw:lr=0.1")
        let p = Tensor([1, 2], requiresGrad: true)
        try opt.step([ParameterGroup(parameters: [NamedParameter(name: "p", tensor: p)])])
        XCTAssertEqual(p.scalars, [1, 2])
        XCTAssertTrue(opt.state().tensors.isEmpty)
    }

    func testStateRoundTripContinuesIdentically() throws {
        for spec in ["sgd:lr=0.1,momentum=0.9", "adamw:lr=0.1"] {
            let a = try make(spec), b = try make(spec)
            let pa = Tensor([1, 2, 3], requiresGrad: true), pb = Tensor([1, 2, 3], requiresGrad: true)
            for g in [[0.1, -0.2, 0.3], [0.5, 0.5, -0.5]] as [[Float]] {
                pa.grad = Tensor(g)
                try a.step([ParameterGroup(parameters: [NamedParameter(name: "w", tensor: pa)])])
            }
            pb.storage.base.copyMemory(from: pa.storage.base, byteCount: 12)
            try b.load(state: a.state())
            for opt in [a, b] {
                let p = opt === a ? pa : pb
                p.grad = Tensor([1, -1, 2])
                try opt.step([ParameterGroup(parameters: [NamedParameter(name: "w", tensor: p)])])
            }
            XCTAssertEqual(pa.scalars, pb.scalars, spec)
        }
    }

    func testLargeParameterTakesTheParallelPathAndMatchesSmall() throws {
        let n = 100_003
        let big = Tensor.full([n], 1, requiresGrad: true)
        var rng = PhiloxRNG(seed: 3)
        let grad = Tensor.randn([n], rng: &rng)
        big.grad = grad
        let opt = try make("adamw:lr=0.01")
        try opt.step([ParameterGroup(parameters: [NamedParameter(name: "big", tensor: big)])])
        // Element i must match a one-element run with the same gradient.
        for i in [0, 7, 8, 50_000, n - 1] {
            let small = Tensor([1], requiresGrad: true)
            small.grad = Tensor([grad.scalars[i]])
            let o = try make("adamw:lr=0.01")
            try o.step([ParameterGroup(parameters: [NamedParameter(name: "s", tensor: small)])])
            XCTAssertEqual(big.scalars[i], small.scalars[0], accuracy: 1e-7)
        }
    }

    func testInvalidSettingsAndStateAreErrors() throws {
        XCTAssertThrowsError(try make("sgd:nesterov=true")) { error in
            XCTAssertEqual("\(error)", "sgd: nesterov=true needs momentum > 0 and dampening = 0 (got momentum=0.0, dampening=0.0)")
        }
        XCTAssertThrowsError(try make("adamw:beta1=1")) { error in
            XCTAssertEqual("\(error)", "adamw: beta1=1 is out of range [0, 1)")
        }
        let opt = try make("adamw")
        XCTAssertThrowsError(try opt.load(state: OptimizerState(scalars: ["step.w": 1]))) { error in
            XCTAssertEqual("\(error)", "adamw: saved state lacks exp_avg / exp_avg_sq of w")
        }
    }
}
