import XCTest
@testable import TemperTensor

/// `linear(_:addedTo:)`, the LoRA up projection of a decode step added into its layer's output.
final class LinearAddedToTests: XCTestCase {
    /// Bit for bit `base + x · Wᵀ` on every row count the GEMM routes differently (one row: GEMV;
    /// 2…16: the small-batch kernel; 17: the packed GEMM, where it falls back), rank-8 and odd depths;
    /// within the small-batch range the result is `base` itself, its buffer reused.
    func testEqualsTheSeparateProductAndSumBitForBit() {
        var rng = PhiloxRNG(seed: 3)
        for (m, k, n) in [(1, 8, 576), (4, 8, 1536), (8, 13, 40), (16, 8, 24), (17, 8, 24)] {
            let x = Tensor.randn([m, k], rng: &rng), w = Tensor.randn([n, k], rng: &rng)
            let base = Tensor.randn([m, n], rng: &rng)
            let expected = withNoGrad { base + x.linear(w) }.scalars
            let fused = withNoGrad { x.linear(w, addedTo: base) }
            XCTAssertEqual(fused.shape, [m, n])
            XCTAssertEqual(fused.scalars.map(\.bitPattern), expected.map(\.bitPattern), "m=\(m) k=\(k) n=\(n)")
            XCTAssertEqual(fused === base, m <= 16, "m=\(m): accumulated into base only for a decode-sized batch")
        }
    }

    /// With gradients on it is the recorded `base + linear`: the gradient reaches x, W and base.
    func testWithGradientsItIsTheRecordedSum() {
        var rng = PhiloxRNG(seed: 4)
        let x = Tensor.randn([2, 8], rng: &rng, requiresGrad: true), w = Tensor.randn([3, 8], rng: &rng, requiresGrad: true)
        let base = Tensor.randn([2, 3], rng: &rng, requiresGrad: true)
        let y = x.linear(w, addedTo: base)
        XCTAssertFalse(y === base)
        y.sum().backward()
        XCTAssertEqual(base.grad?.scalars, [Float](repeating: 1, count: 6))
        XCTAssertEqual(x.grad?.shape, [2, 8])
        XCTAssertEqual(w.grad?.shape, [3, 8])
    }
}
