import Foundation
import TemperCore

/// Adafactor (Shazeer & Stern 2018) with Hugging Face transformers' defaults and step rule.
///
/// Second moments of a matrix `[..., R, C]` are kept factored, as row and column averages
/// (O(R + C) memory instead of O(R·C)); vectors keep a full average. Per step t:
/// β₂ₜ = 1 − t^decay_rate; v ← β₂ₜv + (1−β₂ₜ)(g² + ε₁) (factored: row/column means of it);
/// u = g/√v̂ with v̂ = row ⊗ col / mean(row); u ← u / max(1, RMS(u)/d);
/// step size ρ = η, or with `relative_step` min(10⁻², 1/√t) (warmup_init: min(10⁻⁶t, 1/√t)),
/// times max(ε₂, RMS(θ)) with `scale_parameter`; optional first moment m ← β₁m + (1−β₁)ρu;
/// θ ← θ − ρλθ − ρu (or − m).
public final class Adafactor: Optimizer {
    /// Registered name.
    public static let name = "adafactor"
    /// One-line summary for `temper plugins`.
    public static let summary = "Adafactor: factored second moments, update clipping, optional relative step size"
    /// Settings, with Hugging Face's names and defaults.
    public static let parameters: [ParameterSpec] = [
        .float("lr", default: 0, range: .atLeast(0), aliases: ["learning_rate"],
               doc: "external learning rate; 0 (the default) uses the relative step size, which ignores the trainer's schedule"),
        .float("eps1", default: 1e-30, range: .greaterThan(0), doc: "ε₁ added to squared gradients"),
        .float("eps2", default: 1e-3, range: .greaterThan(0), doc: "ε₂, the least parameter scale"),
        .float("clip_threshold", default: 1, range: .greaterThan(0), doc: "d: updates are scaled down to RMS ≤ d"),
        .float("decay_rate", default: -0.8, range: .init(lower: nil, upper: 0, upperInclusive: false), doc: "β₂ₜ = 1 − t^decay_rate"),
        .float("beta1", default: 0, range: .halfOpen(0, 1), doc: "first-moment decay β₁; 0 keeps no first moment (HF: beta1=None)"),
        .float("weight_decay", default: 0, range: .atLeast(0), doc: "weight decay λ, scaled by the step size"),
        .bool("scale_parameter", default: true, doc: "scale the step by max(ε₂, RMS(θ))"),
        .bool("relative_step", default: true, doc: "time-dependent step min(10⁻², 1/√t) instead of lr"),
        .bool("warmup_init", default: false, doc: "with relative_step, warm the step up as 10⁻⁶·t"),
    ]

    /// The external learning rate; used only when `relative_step` is off (the trainer's schedule
    /// sets it before each step).
    public var learningRate: Float
    let eps1: Double
    let eps2: Double
    let clipThreshold: Double
    let decayRate: Double
    let beta1: Float
    let weightDecay: Float
    let scaleParameter: Bool
    let relativeStep: Bool
    let warmupInit: Bool

    private struct Moments {
        var step: Int
        /// Row averages `[..., R]` and column averages `[..., C]` for matrices.
        var row: Tensor?
        var col: Tensor?
        /// Full average for vectors.
        var full: Tensor?
        /// First moment when β₁ > 0.
        var first: Tensor?
    }
    private var moments: [String: Moments] = [:]

    /// Reads the settings; an explicit lr with relative_step, or warmup_init without it, is an error
    /// (as in Hugging Face).
    public init(config: ComponentConfig) throws {
        learningRate = try config.float("lr")
        eps1 = try config.double("eps1")
        eps2 = try config.double("eps2")
        clipThreshold = try config.double("clip_threshold")
        decayRate = try config.double("decay_rate")
        beta1 = try config.float("beta1")
        weightDecay = try config.float("weight_decay")
        scaleParameter = try config.bool("scale_parameter")
        relativeStep = try config.bool("relative_step")
        warmupInit = try config.bool("warmup_init")
        if relativeStep && learningRate > 0 {
            throw SpecError("adafactor: lr=\(learningRate) cannot be combined with relative_step=true; set relative_step=false to use it")
        }
        if !relativeStep && learningRate == 0 {
            throw SpecError("adafactor: relative_step=false needs an lr > 0")
        }
        if warmupInit && !relativeStep {
            throw SpecError("adafactor: warmup_init=true needs relative_step=true")
        }
    }

    /// Updates every parameter that has a gradient.
    public func step(_ groups: [ParameterGroup]) throws {
        for group in groups {
            let wd = group.weightDecay ?? weightDecay
            for p in group.parameters {
                guard let target = try UpdateTarget(p, optimizer: Self.name) else { continue }
                var m = try moments[p.name] ?? fresh(p.tensor.shape)
                try check(m, p)
                m.step += 1
                update(target, &m, scale: group.learningRateScale, weightDecay: wd)
                moments[p.name] = m
            }
        }
    }

    private func fresh(_ shape: [Int]) throws -> Moments {
        var m = Moments(step: 0)
        if shape.count >= 2 {
            m.row = Tensor.zeros(Array(shape.dropLast()))
            m.col = Tensor.zeros(Array(shape.dropLast(2)) + [shape[shape.count - 1]])
        } else {
            m.full = Tensor.zeros(shape)
        }
        if beta1 > 0 { m.first = Tensor.zeros(shape) }
        return m
    }

    private func check(_ m: Moments, _ p: NamedParameter) throws {
        let expected = try fresh(p.tensor.shape)
        for (have, want, key) in [(m.row, expected.row, "exp_avg_sq_row"), (m.col, expected.col, "exp_avg_sq_col"),
                                  (m.full, expected.full, "exp_avg_sq"), (m.first, expected.first, "exp_avg")] {
            guard have?.shape == want?.shape else {
                throw SpecError("adafactor: saved \(key) of \(p.name) has shape \(have.map { "\($0.shape)" } ?? "none"), expected \(want.map { "\($0.shape)" } ?? "none")")
            }
        }
    }

    private static func rms(_ p: UnsafeMutablePointer<Float>, _ n: Int) -> Double {
        var acc = 0.0
        for i in 0..<n { acc += Double(p[i]) * Double(p[i]) }
        return (acc / Double(max(n, 1))).squareRoot()
    }

    private func update(_ t: UpdateTarget, _ m: inout Moments, scale: Float, weightDecay wd: Float) {
        let n = t.count
        let theta = t.parameter.floatPointer, grad = t.gradient.floatPointer
        let step = Double(m.step)
        var rho = Double(learningRate)
        if relativeStep { rho = min(warmupInit ? 1e-6 * step : 1e-2, 1 / step.squareRoot()) }
        if scaleParameter { rho *= max(eps2, Self.rms(theta, n)) }
        rho *= Double(scale)
        let beta2t = 1 - pow(step, decayRate)
        var u = [Float](repeating: 0, count: n)
        withExtendedLifetime((t, m.row, m.col, m.full)) {
            if let rowT = m.row, let colT = m.col {
                let cols = t.parameter.shape[t.parameter.rank - 1]
                let rows = t.parameter.shape[t.parameter.rank - 2]
                let batches = n / max(rows * cols, 1)
                let row = rowT.floatPointer, col = colT.floatPointer
                for b in 0..<batches {
                    let g = grad + b * rows * cols
                    var colSums = [Double](repeating: 0, count: cols)
                    for i in 0..<rows {
                        var rowSum = 0.0
                        for j in 0..<cols {
                            let sq = Double(g[i * cols + j]) * Double(g[i * cols + j]) + eps1
                            rowSum += sq
                            colSums[j] += sq
                        }
                        let r = b * rows + i
                        row[r] = Float(beta2t * Double(row[r]) + (1 - beta2t) * rowSum / Double(cols))
                    }
                    for j in 0..<cols {
                        let c = b * cols + j
                        col[c] = Float(beta2t * Double(col[c]) + (1 - beta2t) * colSums[j] / Double(rows))
                    }
                    // v̂ = row ⊗ col / mean(row): u = g · rsqrt(row / mean(row)) · rsqrt(col).
                    var rowMean = 0.0
                    for i in 0..<rows { rowMean += Double(row[b * rows + i]) }
                    rowMean /= Double(rows)
                    for i in 0..<rows {
                        let rf = 1 / (Double(row[b * rows + i]) / rowMean).squareRoot()
                        for j in 0..<cols {
                            let cf = 1 / Double(col[b * cols + j]).squareRoot()
                            u[b * rows * cols + i * cols + j] = Float(rf * cf * Double(g[i * cols + j]))
                        }
                    }
                }
            } else if let fullT = m.full {
                let v = fullT.floatPointer
                for i in 0..<n {
                    let sq = Double(grad[i]) * Double(grad[i]) + eps1
                    v[i] = Float(beta2t * Double(v[i]) + (1 - beta2t) * sq)
                    u[i] = Float(Double(grad[i]) / Double(v[i]).squareRoot())
                }
            }
        }
        let clip = max(1, u.withUnsafeMutableBufferPointer { Self.rms($0.baseAddress!, n) } / clipThreshold)
        let factor = Float(rho / clip)
        let shrink = Float(1 - rho * Double(wd))
        if let firstT = m.first {
            let mp = firstT.floatPointer
            withExtendedLifetime((t, firstT)) {
                for i in 0..<n {
                    mp[i] = beta1 * mp[i] + (1 - beta1) * factor * u[i]
                    theta[i] = theta[i] * shrink - mp[i]
                }
            }
        } else {
            withExtendedLifetime(t) {
                for i in 0..<n { theta[i] = theta[i] * shrink - factor * u[i] }
            }
        }
    }

    /// Factored moments (`exp_avg_sq_row.<name>`, `exp_avg_sq_col.<name>`), full ones for vectors
    /// (`exp_avg_sq.<name>`), first moments (`exp_avg.<name>`) and step counts (`step.<name>`).
    public func state() -> OptimizerState {
        var s = OptimizerState()
        for (name, m) in moments {
            s.scalars["step.\(name)"] = Double(m.step)
            if let r = m.row { s.tensors["exp_avg_sq_row.\(name)"] = r.copy() }
            if let c = m.col { s.tensors["exp_avg_sq_col.\(name)"] = c.copy() }
            if let f = m.full { s.tensors["exp_avg_sq.\(name)"] = f.copy() }
            if let f = m.first { s.tensors["exp_avg.\(name)"] = f.copy() }
        }
        return s
    }

    /// Restores state saved by `state()`: every step count needs its second moments (row and
    /// column, or full), and its first moment when β₁ > 0.
    public func load(state: OptimizerState) throws {
        var restored: [String: Moments] = [:]
        var used = 0
        for (key, step) in state.scalars {
            guard key.hasPrefix("step.") else { throw SpecError("adafactor: unexpected state scalar '\(key)'") }
            let name = String(key.dropFirst("step.".count))
            var m = Moments(step: Int(step))
            m.row = state.tensors["exp_avg_sq_row.\(name)"]?.copy()
            m.col = state.tensors["exp_avg_sq_col.\(name)"]?.copy()
            m.full = state.tensors["exp_avg_sq.\(name)"]?.copy()
            m.first = state.tensors["exp_avg.\(name)"]?.copy()
            guard (m.row != nil && m.col != nil) != (m.full != nil) else {
                throw SpecError("adafactor: saved state of \(name) needs exp_avg_sq_row and exp_avg_sq_col, or exp_avg_sq")
            }
            guard (m.first != nil) == (beta1 > 0) else {
                throw SpecError("adafactor: saved state of \(name) \(beta1 > 0 ? "lacks" : "has") exp_avg but beta1 = \(beta1)")
            }
            used += [m.row, m.col, m.full, m.first].compactMap { $0 }.count
            restored[name] = m
        }
        guard used == state.tensors.count else { throw SpecError("adafactor: saved state has tensors without a step count") }
        moments = restored
    }
}
