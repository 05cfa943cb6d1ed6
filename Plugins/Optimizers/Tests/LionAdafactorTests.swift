import Foundation
import TemperCore
import TemperTestSupport
import XCTest

/// Lion and Adafactor, loaded from the built plugin: updates against their formulas computed by
/// hand in Double, convergence on a quadratic, and exact state round trips.
final class LionAdafactorTests: XCTestCase {
    override func setUp() {
        TestPlugins.loadBuilt(requiring: ["lion", "adafactor"])
    }

    private func make(_ spec: String) throws -> any Optimizer {
        try ComponentRegistry.shared.optimizer(spec)
    }

    private func group(_ name: String, _ t: Tensor) -> [ParameterGroup] {
        [ParameterGroup(parameters: [NamedParameter(name: name, tensor: t)])]
    }

    func testLionUpdateMatchesFormulaOverTwoSteps() throws {
        let opt = try make("lion:lr=0.1,beta1=0.8,beta2=0.95,weight_decay=0.5")
        let n = 11
        let start = (0..<n).map { Float($0) * 0.5 - 2 }
        // Element 3 of the first gradient is 0 with zero momentum: sign(0) = 0, only decay moves it.
        let grads: [[Float]] = [(0..<n).map { $0 == 3 ? 0 : Float($0) - 4.5 }, (0..<n).map { Float(n - $0) * 0.3 - 1 }]
        let p = Tensor(shape: [n], scalars: start, requiresGrad: true)
        var theta = start.map(Double.init), m = [Double](repeating: 0, count: n)
        for g in grads {
            p.grad = Tensor(shape: [n], scalars: g)
            try opt.step(group("p", p))
            for i in 0..<n {
                let c = 0.8 * m[i] + 0.2 * Double(g[i])
                theta[i] = theta[i] * (1 - 0.1 * 0.5) - 0.1 * (c > 0 ? 1 : c < 0 ? -1 : 0)
                m[i] = 0.95 * m[i] + 0.05 * Double(g[i])
            }
            for (a, b) in zip(p.scalars, theta) { XCTAssertEqual(Double(a), b, accuracy: 1e-6) }
        }
        let saved: [Float] = opt.state().tensors["exp_avg.p"]?.scalars ?? []
        XCTAssertEqual(saved.count, n)
        for (a, b) in zip(saved, m) { XCTAssertEqual(Double(a), b, accuracy: 1e-6) }
    }

    /// HF Adafactor with its defaults (relative step, parameter scaling, no first moment) on a
    /// matrix (factored) and a vector, two steps, against the algorithm written out in Double.
    func testAdafactorDefaultsMatchTheAlgorithm() throws {
        let opt = try make("adafactor")
        let rows = 3, cols = 4
        let w0: [Float] = (0..<12).map { Float($0) * 0.1 - 0.4 }
        let b0: [Float] = [0.5, -0.25, 1]
        let w = Tensor(shape: [rows, cols], scalars: w0, requiresGrad: true), b = Tensor(shape: [3], scalars: b0, requiresGrad: true)
        var wRef = w0.map(Double.init), bRef = b0.map(Double.init)
        var row = [Double](repeating: 0, count: rows), col = [Double](repeating: 0, count: cols), v = [Double](repeating: 0, count: 3)
        func rms(_ x: [Double]) -> Double { (x.reduce(0) { $0 + $1 * $1 } / Double(x.count)).squareRoot() }
        for t in 1...2 {
            let gw: [Float] = (0..<12).map { sin(Float($0 + t)) }, gb: [Float] = [Float(t), -0.5, 0.25]
            w.grad = Tensor(shape: [rows, cols], scalars: gw)
            b.grad = Tensor(gb)
            try opt.step([ParameterGroup(parameters: [NamedParameter(name: "w", tensor: w), NamedParameter(name: "b", tensor: b)])])
            let beta2 = 1 - pow(Double(t), -0.8)
            let rel = min(1e-2, 1 / Double(t).squareRoot())
            // Matrix: factored second moment.
            let sq = gw.map { Double($0) * Double($0) + 1e-30 }
            for i in 0..<rows { row[i] = beta2 * row[i] + (1 - beta2) * (0..<cols).reduce(0) { $0 + sq[i * cols + $1] } / Double(cols) }
            for j in 0..<cols { col[j] = beta2 * col[j] + (1 - beta2) * (0..<rows).reduce(0) { $0 + sq[$1 * cols + j] } / Double(rows) }
            let rowMean = row.reduce(0, +) / Double(rows)
            var u = (0..<12).map { e in Double(gw[e]) / (row[e / cols] / rowMean).squareRoot() / col[e % cols].squareRoot() }
            var clip = max(1, rms(u))
            var lr = rel * max(1e-3, rms(wRef))
            u = u.map { $0 / clip * lr }
            wRef = zip(wRef, u).map { $0 - $1 }
            // Vector: full second moment.
            for i in 0..<3 { v[i] = beta2 * v[i] + (1 - beta2) * (Double(gb[i]) * Double(gb[i]) + 1e-30) }
            var ub = (0..<3).map { Double(gb[$0]) / v[$0].squareRoot() }
            clip = max(1, rms(ub))
            lr = rel * max(1e-3, rms(bRef))
            ub = ub.map { $0 / clip * lr }
            bRef = zip(bRef, ub).map { $0 - $1 }
            for (x, y) in zip(w.scalars, wRef) { XCTAssertEqual(Double(x), y, accuracy: 1e-6) }
            for (x, y) in zip(b.scalars, bRef) { XCTAssertEqual(Double(x), y, accuracy: 1e-6) }
        }
        let state = opt.state()
        XCTAssertEqual(state.tensors["exp_avg_sq_row.w"]?.shape, [3])
        XCTAssertEqual(state.tensors["exp_avg_sq_col.w"]?.shape, [4])
        XCTAssertEqual(state.tensors["exp_avg_sq.b"]?.shape, [3])
        XCTAssertEqual(state.scalars["step.w"], 2)
        for (x, y) in zip(state.tensors["exp_avg_sq_row.w"]!.scalars, row) { XCTAssertEqual(Double(x), y, accuracy: 1e-6 * max(1, y)) }
    }

    func testAdafactorFirstMomentAndWeightDecayWithExternalRate() throws {
        let opt = try make("adafactor:lr=0.1,relative_step=false,scale_parameter=false,beta1=0.9,weight_decay=0.2")
        let p = Tensor([1, -2], requiresGrad: true)
        var theta: [Double] = [1, -2], v: [Double] = [0, 0], m: [Double] = [0, 0]
        for (t, g) in [[0.5, -1], [2, 0.25]].enumerated() {
            p.grad = Tensor(g.map(Float.init))
            try opt.step(group("p", p))
            let beta2 = 1 - pow(Double(t + 1), -0.8)
            for i in 0..<2 { v[i] = beta2 * v[i] + (1 - beta2) * (g[i] * g[i] + 1e-30) }
            var u = (0..<2).map { g[$0] / v[$0].squareRoot() }
            let clip = max(1, (u.reduce(0) { $0 + $1 * $1 } / 2).squareRoot())
            u = u.map { $0 / clip * 0.1 }
            for i in 0..<2 {
                m[i] = 0.9 * m[i] + 0.1 * u[i]
                theta[i] = theta[i] - 0.2 * 0.1 * theta[i] - m[i]
            }
            for (x, y) in zip(p.scalars, theta) { XCTAssertEqual(Double(x), y, accuracy: 1e-6) }
        }
    }

    /// f(θ) = ½ Σ cᵢ (θᵢ − tᵢ)² as a 3×7 matrix (Adafactor factors it) with a decaying rate, since
    /// sign- and RMS-normalised steps keep a size set by the rate rather than the gradient.
    func testMinimizeAQuadratic() throws {
        for spec in ["lion:lr=0.05", "adafactor:lr=0.05,relative_step=false,scale_parameter=false"] {
            let opt = try make(spec)
            let n = 21
            let target = (0..<n).map { Float($0) * 0.1 - 0.7 }
            let curvature = (0..<n).map { 0.5 + Float($0 % 4) * 0.5 }
            let theta = Tensor(shape: [3, 7], scalars: [Float](repeating: 2, count: n), requiresGrad: true)
            let steps = 600
            for s in 0..<steps {
                opt.learningRate = 0.05 * (1 - Float(s) / Float(steps)) + 1e-4
                let values = theta.scalars
                theta.grad = Tensor(shape: [3, 7], scalars: (0..<n).map { curvature[$0] * (values[$0] - target[$0]) })
                try opt.step(group("theta", theta))
            }
            let worst = zip(theta.scalars, target).map { abs($0 - $1) }.max()!
            XCTAssertLessThan(worst, 5e-3, spec)
        }
    }

    func testStateRoundTripContinuesIdentically() throws {
        for spec in ["lion:lr=0.1,weight_decay=0.1", "adafactor", "adafactor:lr=0.01,relative_step=false,beta1=0.9"] {
            let a = try make(spec), b = try make(spec)
            let wa = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6], requiresGrad: true)
            let va = Tensor([0.5, -0.5, 1], requiresGrad: true)
            for g in [[0.1, -0.2, 0.3, 0.4, -0.5, 0.6], [0.5, 0.5, -0.5, 1, 2, -3]] as [[Float]] {
                wa.grad = Tensor(shape: [2, 3], scalars: g)
                va.grad = Tensor(Array(g.prefix(3)))
                try a.step([ParameterGroup(parameters: [NamedParameter(name: "w", tensor: wa), NamedParameter(name: "v", tensor: va)])])
            }
            let wb = wa.copy(), vb = va.copy()
            wb.requiresGrad = true; vb.requiresGrad = true
            try b.load(state: a.state())
            for (opt, w, v) in [(a, wa, va), (b, wb, vb)] {
                w.grad = Tensor(shape: [2, 3], scalars: [1, -1, 2, 0.5, 0.25, -2])
                v.grad = Tensor([0.3, 0.2, -0.1])
                try opt.step([ParameterGroup(parameters: [NamedParameter(name: "w", tensor: w), NamedParameter(name: "v", tensor: v)])])
            }
            XCTAssertEqual(wa.scalars, wb.scalars, spec)
            XCTAssertEqual(va.scalars, vb.scalars, spec)
        }
    }

    func testInvalidSettingsAndStateAreErrors() throws {
        XCTAssertThrowsError(try make("adafactor:lr=0.01")) { XCTAssertTrue("\($0)".contains("cannot be combined with relative_step=true"), "\($0)") }
        XCTAssertThrowsError(try make("adafactor:relative_step=false")) { XCTAssertTrue("\($0)".contains("needs an lr > 0"), "\($0)") }
        let opt = try make("adafactor")
        XCTAssertThrowsError(try opt.load(state: OptimizerState(tensors: ["exp_avg_sq_row.w": Tensor([1])], scalars: ["step.w": 1]))) {
            XCTAssertTrue("\($0)".contains("needs exp_avg_sq_row and exp_avg_sq_col, or exp_avg_sq"), "\($0)")
        }
        let lion = try make("lion")
        XCTAssertThrowsError(try lion.load(state: OptimizerState(tensors: ["momentum.w": Tensor([1])]))) {
            XCTAssertEqual("\($0)", "lion: unexpected state tensor 'momentum.w'")
        }
    }
}
