import XCTest
@testable import TemperTensor

/// Attention reads keys and values through their strides when rows are contiguous (a KV cache's
/// filled prefix, a head-transposed projection): same outputs and gradients as dense copies.
extension AttentionTests {
    func testStridedKeysAndValuesMatchDenseCopies() {
        let q = FiniteDifference.param([2, 6, 3, 8], seed: 11)
        let cacheK = FiniteDifference.param([2, 2, 10, 8], seed: 12)
        let cacheV = FiniteDifference.param([2, 2, 10, 8], seed: 13)
        let projK = FiniteDifference.param([2, 7, 2, 8], seed: 14)
        let projV = FiniteDifference.param([2, 7, 2, 8], seed: 15)
        let layouts: [(String, () -> (Tensor, Tensor), [Tensor])] = [
            ("cache prefix", { (cacheK.narrow(2, start: 0, length: 7), cacheV.narrow(2, start: 0, length: 7)) }, [cacheK, cacheV]),
            ("head transpose", { (projK.transpose(1, 2), projV.transpose(1, 2)) }, [projK, projV]),
        ]
        for (name, views, leaves) in layouts {
            let (k, v) = views()
            XCTAssertFalse(k.isContiguous || v.isContiguous, name)
            let strided = Tensor.scaledDotProductAttention(query: q, key: k, value: v)
            let dense = Tensor.scaledDotProductAttention(query: q, key: k.contiguous(), value: v.contiguous())
            XCTAssertEqual(strided.scalars, dense.scalars, name)
            FiniteDifference.assertClose(strided.scalars, reference(q, k.contiguous(), v.contiguous(), causal: true), tol: 1e-5)

            var grads: [[[Float]]] = []
            for useViews in [true, false] {
                for t in leaves + [q] { t.grad = nil }
                let (k2, v2) = views()
                let out = useViews ? Tensor.scaledDotProductAttention(query: q, key: k2, value: v2)
                                   : Tensor.scaledDotProductAttention(query: q, key: k2.contiguous(), value: v2.contiguous())
                (out * out).sum().backward()
                grads.append((leaves + [q]).map { $0.grad!.scalars })
            }
            XCTAssertEqual(grads[0], grads[1], "\(name): gradients through strided views differ from dense copies")
        }
    }
}
