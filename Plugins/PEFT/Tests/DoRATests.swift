import Foundation
import TemperCore
import TemperTestSupport
import XCTest

final class DoRATests: XCTestCase {
    typealias S = PEFTTestSupport

    func testForwardAtInitEqualsBaseAndMagnitudeIsTheRowNorm() throws {
        let model = try S.model()
        let base = try S.logits(model)
        let w = model.linearLayers[0].weight.scalars
        let dora = try S.method("dora:r=4,target_modules=all-linear")
        let count = try dora.apply(to: model)
        XCTAssertLessThan(maxDifference(try S.logits(model), base), 2e-5)
        let params = dora.trainableGroups()[0].parameters
        XCTAssertEqual(params[2].name, "model.layers.0.self_attn.q_proj.lora_magnitude_vector")
        let m = params[2].tensor.scalars
        for i in 0..<16 { XCTAssertEqual(m[i], (0..<16).reduce(Float(0)) { $0 + w[i * 16 + $1] * w[i * 16 + $1] }.squareRoot(), accuracy: 1e-5) }
        let lora = [16 + 16, 16 + 8, 16 + 8, 16 + 16, 16 + 24, 16 + 24, 24 + 16].reduce(0, +) * 4
        let magnitudes = [16, 8, 8, 16, 24, 24, 16].reduce(0, +)
        XCTAssertEqual(count.trainable, 2 * (lora + magnitudes))
    }

    /// Gradients with the norm held constant (as DoRA prescribes), against central differences of
    /// y = m ⊙ (W + s·B·A)·x / n₀ + b computed independently in Double with n₀ frozen.
    func testGradientsMatchTheDetachedNormFormula() throws {
        let model = OneLayerModel(outFeatures: 4, inFeatures: 6)
        let dora = try S.method("dora:r=2,lora_alpha=3,target_modules=proj")
        _ = try dora.apply(to: model)
        let p = dora.trainableGroups()[0].parameters
        let (a, b, m) = (p[0].tensor, p[1].tensor, p[2].tensor)
        S.randomize(b, std: 0.5, seed: 2)
        S.randomize(m, std: 1, seed: 3)
        var rng = PhiloxRNG(seed: 6)
        let x = Tensor.randn([3, 6], rng: &rng), c = Tensor.randn([3, 4], rng: &rng)
        (model.layer(x) * c).sum().backward()
        let w = model.layer.weight.scalars, bias = model.layer.bias!.scalars, xs = x.scalars, cs = c.scalars
        let s = 1.5
        func adapted() -> [Double] {
            let av = a.scalars, bv = b.scalars
            return (0..<24).map { e in Double(w[e]) + s * (0..<2).reduce(0.0) { $0 + Double(bv[(e / 6) * 2 + $1]) * Double(av[$1 * 6 + e % 6]) } }
        }
        let w0 = adapted()
        let n0 = (0..<4).map { i in (0..<6).reduce(0.0) { $0 + w0[i * 6 + $1] * w0[i * 6 + $1] }.squareRoot() }
        let reference: () -> Float = {
            let wa = adapted(), mv = m.scalars
            var total = 0.0
            for r in 0..<3 { for i in 0..<4 {
                let dot = (0..<6).reduce(0.0) { $0 + wa[i * 6 + $1] * Double(xs[r * 6 + $1]) }
                total += Double(cs[r * 4 + i]) * (Double(mv[i]) * dot / n0[i] + Double(bias[i]))
            } }
            return Float(total)
        }
        // The module's own output agrees with the reference before differencing.
        XCTAssertEqual(withNoGrad { (model.layer(x) * c).sum().item }, reference(), accuracy: 1e-4)
        S.checkGradient(of: m, indices: Array(0..<4), eps: 1e-2, tolerance: 1e-3, loss: reference)
        S.checkGradient(of: a, indices: Array(0..<12), eps: 1e-2, tolerance: 1e-3, loss: reference)
        S.checkGradient(of: b, indices: Array(0..<8), eps: 1e-2, tolerance: 1e-3, loss: reference)
    }

    func testMergeUnmergeAndPEFTRoundTrip() throws {
        let model = try S.model(seed: 13)
        let dora = try S.method("dora:r=2,lora_alpha=4,target_modules=[v_proj,gate_proj]")
        _ = try dora.apply(to: model)
        for (i, p) in dora.trainableGroups()[0].parameters.enumerated() where !p.name.hasSuffix("lora_A.weight") {
            let before = p.tensor.scalars
            S.randomize(p.tensor, std: 0.2, seed: UInt64(i))
            if p.name.hasSuffix("magnitude_vector") {
                p.tensor.withUnsafeMutableBufferPointer { q in for j in 0..<q.count { q[j] += before[j] } }
            }
        }
        let adapted = try S.logits(model)
        try dora.merge(into: model)
        XCTAssertLessThan(maxDifference(try S.logits(model), adapted), 2e-5)
        try dora.unmerge(from: model)
        XCTAssertEqual(try S.logits(model), adapted)

        let export = try dora.export()
        XCTAssertEqual(export.config["use_dora"], .bool(true))
        XCTAssertEqual(export.tensors["base_model.model.model.layers.1.self_attn.v_proj.lora_magnitude_vector"]?.shape, [8])
        let dir = try makeTemporaryFolder("peft")
        try PEFTAdapterFiles.write(export, to: dir)
        let fresh = try S.model(seed: 13)
        let loaded = try PEFTAdapterLoader.load(from: dir, into: fresh)
        XCTAssertEqual(type(of: loaded).name, "dora")
        XCTAssertEqual(try S.logits(fresh), adapted)
    }
}
