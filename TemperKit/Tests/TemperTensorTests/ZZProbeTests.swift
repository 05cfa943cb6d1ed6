import XCTest
import Foundation
@testable import TemperTensor
final class ZZProbeTests: XCTestCase {
    func time(_ name: String, _ reps: Int = 5, _ body: () -> Void) {
        body()
        let t0 = Date()
        for _ in 0..<reps { body() }
        print(String(format: "PROBE %@: %.2f ms", name, Date().timeIntervalSince(t0) * 1000 / Double(reps)))
    }
    func testProbe() {
        var rng = PhiloxRNG(seed: 1)
        let q = Tensor.randn([8, 9, 128, 64], rng: &rng, requiresGrad: true)
        let k = Tensor.randn([8, 3, 128, 64], rng: &rng, requiresGrad: true)
        let v = Tensor.randn([8, 3, 128, 64], rng: &rng, requiresGrad: true)
        time("attention fwd") { _ = withNoGrad { Tensor.scaledDotProductAttention(query: q, key: k, value: v) } }
        time("attention fwd+bwd") { Tensor.scaledDotProductAttention(query: q, key: k, value: v).sum().backward() }
        let x = Tensor.randn([1024, 576], rng: &rng, requiresGrad: true)
        let w = Tensor.ones([576], requiresGrad: true)
        time("rmsNorm fwd+bwd") { x.rmsNorm(weight: w, eps: 1e-5).sum().backward() }
        let h = Tensor.randn([1024, 1536], rng: &rng, requiresGrad: true)
        time("silu fwd") { _ = withNoGrad { h.silu() } }
        time("silu*mul fwd+bwd") { (h.silu() * h).sum().backward() }
        let r = Tensor.randn([8, 9, 128, 64], rng: &rng, requiresGrad: true)
        time("rope fwd+bwd") { r.rope(theta: 10000).sum().backward() }
        let logits = Tensor.randn([256, 49152], rng: &rng, requiresGrad: true)
        let t = Tensor(shape: [256], int32: (0..<256).map { Int32($0 * 7) })
        time("crossEntropy fwd+bwd 256x49152", 3) { Tensor.crossEntropy(logits: logits, targets: t).backward() }
        time("logSoftmax fwd 256x49152", 3) { _ = withNoGrad { logits.logSoftmax() } }
        let emb = Tensor.randn([49152, 576], rng: &rng, requiresGrad: true)
        let ids = Tensor(shape: [8, 128], int32: (0..<1024).map { Int32($0 * 13) })
        time("embedding fwd+bwd", 3) { Tensor.embedding(ids: ids, weight: emb).sum().backward() }
        let wq = Tensor.randn([576, 576], rng: &rng, requiresGrad: true)
        time("linear 1024x576x576 fwd+bwd") { x.linear(wq).sum().backward() }
        let xb = Tensor.randn([8, 128, 576], rng: &rng, requiresGrad: true)
        let bias = Tensor.randn([576], rng: &rng, requiresGrad: true)
        time("add bias broadcast fwd+bwd") { (xb + bias).sum().backward() }
    }
}
