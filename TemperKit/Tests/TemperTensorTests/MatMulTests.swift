import XCTest
@testable import TemperTensor

final class MatMulTests: XCTestCase {
    /// C[b] = A[b]·B[b] by the definition, in Double.
    func naive(_ a: Tensor, _ b: Tensor) -> [Float] {
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
        let batch = a.rank == 3 ? a.shape[0] : 1
        var out: [Float] = []
        for bi in 0..<batch {
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for p in 0..<k {
                        let av = a.rank == 3 ? a[bi, i, p] : a[i, p]
                        let bv = b.rank == 3 ? b[bi, p, j] : b[p, j]
                        s += Double(av) * Double(bv)
                    }
                    out.append(Float(s))
                }
            }
        }
        return out
    }

    func testAllTransposeCombinationsMatchNaive() {
        for (m, k, n) in [(1, 1, 1), (7, 63, 5), (65, 7, 33), (3, 129, 2)] {
            var rng = PhiloxRNG(seed: UInt64(m * 1000 + k * 10 + n))
            let a = Tensor.randn([m, k], rng: &rng), at = Tensor.randn([k, m], rng: &rng)
            let b = Tensor.randn([k, n], rng: &rng), bt = Tensor.randn([n, k], rng: &rng)
            FiniteDifference.assertClose(a.matmul(b).scalars, naive(a, b), tol: 1e-4)
            FiniteDifference.assertClose(a.matmul(bt.transposed()).scalars, naive(a, bt.transposed()), tol: 1e-4)
            FiniteDifference.assertClose(at.transposed().matmul(b).scalars, naive(at.transposed(), b), tol: 1e-4)
            FiniteDifference.assertClose(at.transposed().matmul(bt.transposed()).scalars, naive(at.transposed(), bt.transposed()), tol: 1e-4)
        }
    }

    func testTransposedViewsAreNotCopied() {
        let w = Tensor.zeros([5, 3])
        let (operand, trans, ld) = MatMulKernel.operand(w.transposed())
        XCTAssertTrue(operand.storage === w.storage)
        XCTAssertTrue(trans)
        XCTAssertEqual(ld, 3)
    }

    func testBatchedAndBroadcastBatches() {
        var rng = PhiloxRNG(seed: 9)
        let a = Tensor.randn([3, 4, 5], rng: &rng), b = Tensor.randn([3, 5, 2], rng: &rng)
        FiniteDifference.assertClose(a.matmul(b).scalars, naive(a, b), tol: 1e-4)
        let w = Tensor.randn([5, 6], rng: &rng)
        let folded = a.matmul(w)
        XCTAssertEqual(folded.shape, [3, 4, 6])
        FiniteDifference.assertClose(folded.scalars, naive(a, w.unsqueeze(0).expand([3, 5, 6]).contiguous()), tol: 1e-4)
        let shared = Tensor.randn([4, 5], rng: &rng)
        let bc = shared.matmul(b)
        XCTAssertEqual(bc.shape, [3, 4, 2])
        FiniteDifference.assertClose(bc.scalars, naive(shared.unsqueeze(0).expand([3, 4, 5]).contiguous(), b), tol: 1e-4)
    }

    func testMatmulGradients() {
        let a = FiniteDifference.param([3, 7], seed: 80), b = FiniteDifference.param([7, 5], seed: 81)
        FiniteDifference.check([a, b]) { $0[0].matmul($0[1]) }
        let bt = FiniteDifference.param([5, 7], seed: 82), at = FiniteDifference.param([7, 3], seed: 83)
        FiniteDifference.check([a, bt]) { $0[0].matmul($0[1].transposed()) }
        FiniteDifference.check([at, b]) { $0[0].transposed().matmul($0[1]) }
        FiniteDifference.check([at, bt]) { $0[0].transposed().matmul($0[1].transposed()) }
        let x = FiniteDifference.param([2, 3, 4], seed: 84), y = FiniteDifference.param([2, 4, 2], seed: 85)
        FiniteDifference.check([x, y]) { $0[0].matmul($0[1]) }
        let w = FiniteDifference.param([4, 3], seed: 86)
        FiniteDifference.check([x, w]) { $0[0].matmul($0[1]) }
        let shared = FiniteDifference.param([3, 4], seed: 87)
        FiniteDifference.check([shared, y]) { $0[0].matmul($0[1]) }
    }

    func testTransposedWeightGetsContiguousGradient() {
        let x = FiniteDifference.param([4, 3], seed: 90), w = FiniteDifference.param([5, 3], seed: 91)
        x.matmul(w.transposed()).sum().backward()
        XCTAssertEqual(w.grad?.shape, [5, 3])
        XCTAssertEqual(w.grad?.isContiguous, true)
    }

    func testLinearMatchesMatmulAndBias() {
        for (rows, inF, outF) in [(1, 1, 1), (3, 7, 5), (2, 65, 9)] {
            let x = FiniteDifference.param([rows, 2, inF], seed: UInt64(rows + inF))
            let w = FiniteDifference.param([outF, inF], seed: UInt64(outF + 40))
            let b = FiniteDifference.param([outF], seed: UInt64(outF + 41))
            let y = x.linear(w, bias: b)
            XCTAssertEqual(y.shape, [rows, 2, outF])
            FiniteDifference.assertClose(y.scalars, (x.matmul(w.transposed()) + b).scalars, tol: 1e-5)
            FiniteDifference.check([x, w, b]) { $0[0].linear($0[1], bias: $0[2]) }
            FiniteDifference.check([x, w]) { $0[0].linear($0[1]) }
        }
    }

    func testFrozenWeightGetsNoGradient() {
        let x = FiniteDifference.param([3, 4], seed: 92)
        let w = Tensor.ones([2, 4])
        x.linear(w).sum().backward()
        XCTAssertNil(w.grad)
        XCTAssertEqual(x.grad?.scalars, [Float](repeating: 2, count: 12))
    }
}
