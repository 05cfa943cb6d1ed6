import XCTest
@testable import TemperTensor

/// Products with block-quantized weights against the same weights decoded to float32, on shapes
/// that are not multiples of any tile (37 or 45 output rows), on every dot-product path.
final class QuantizedProductTests: XCTestCase {
    func random(_ shape: [Int], seed: UInt64) -> Tensor {
        var rng = PhiloxRNG(seed: seed)
        return Tensor.randn(shape, std: 1, rng: &rng)
    }

    /// The fused kernel quantizes each 32-block of x to int8 with step d = max|x|/127, so each output
    /// may differ from x · W_dequantizedᵀ by at most Σ_blocks (d/2) · Σ|w| of the block, plus float
    /// rounding. Every path must stay inside that bound and the paths must agree with each other.
    func testFusedKernelsStayWithinTheActivationRoundingBoundOnEveryPath() throws {
        let saved = QuantizedProduct.quantizesActivations
        QuantizedProduct.quantizesActivations = true
        defer { QuantizedProduct.quantizesActivations = saved }
        let k = 96, n = 37
        let w = random([n, k], seed: 1)
        for format in QuantFormat.encodable {
            let q = try QuantizedMatrix(quantizing: w, format: format, name: "w")
            let wd = q.dequantized().scalars
            for m in [1, 3, 16] {
                let x = random([m, k], seed: UInt64(10 + m))
                let xs = x.scalars
                var byPath: [QuantizedDotPath: [Float]] = [:]
                for path in QuantizedDotPath.supported {
                    byPath[path] = QuantizedDotPath.using(path) { withNoGrad { x.linear(q) } }.scalars
                }
                for i in 0..<m {
                    for r in 0..<n {
                        var exact = 0.0, bound = 0.0, magnitude = 0.0
                        for b in 0..<(k / 32) {
                            let amax = (0..<32).map { abs(Double(xs[i * k + b * 32 + $0])) }.max()!
                            var wsum = 0.0
                            for j in (b * 32)..<(b * 32 + 32) {
                                exact += Double(xs[i * k + j]) * Double(wd[r * k + j])
                                magnitude += abs(Double(xs[i * k + j]) * Double(wd[r * k + j]))
                                wsum += abs(Double(wd[r * k + j]))
                            }
                            bound += amax / 127 / 2 * wsum
                        }
                        let portable = Double(byPath[.portable]![i * n + r])
                        XCTAssertLessThanOrEqual(abs(portable - exact), bound + 1e-5 * magnitude, "\(format) m=\(m) row \(i) col \(r)")
                        for (path, y) in byPath {
                            XCTAssertEqual(Double(y[i * n + r]), portable, accuracy: 1e-6 * magnitude + 1e-6, "\(format) \(path) m=\(m)")
                        }
                    }
                }
            }
        }
    }

    /// Past the fused row limit (and for every format with float activations) W is decoded a panel
    /// at a time for the float GEMM: the result is the float product up to summation order.
    func testPanelProductEqualsTheFloatProductOfTheDecodedWeights() throws {
        let k = 64, n = 45
        let w = random([n, k], seed: 2)
        for format in QuantFormat.encodable {
            let q = try QuantizedMatrix(quantizing: w, format: format, name: "w")
            let wd = q.dequantized()
            for m in [17, 40] {
                let x = random([m, k], seed: UInt64(m))
                let got = withNoGrad { x.linear(q) }.scalars, want = withNoGrad { x.linear(wd) }.scalars
                XCTAssertEqual(got.count, m * n)
                for (a, b) in zip(got, want) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(format) m=\(m)") }
            }
        }
    }

    /// With float activations the fused kernel converts each block's codes to float: the float
    /// product of the decoded weights up to summation order, on every path.
    func testFusedFloatActivationKernelEqualsTheFloatProduct() throws {
        let saved = QuantizedProduct.quantizesActivations
        QuantizedProduct.quantizesActivations = false
        defer { QuantizedProduct.quantizesActivations = saved }
        let k = 96, n = 37
        let w = random([n, k], seed: 12)
        for format in QuantFormat.encodable {
            let q = try QuantizedMatrix(quantizing: w, format: format, name: "w")
            let wd = q.dequantized()
            for m in [1, 5, 16] {
                let x = random([m, k], seed: UInt64(20 + m))
                let want = withNoGrad { x.linear(wd) }.scalars
                for path in QuantizedDotPath.supported {
                    let got = QuantizedDotPath.using(path) { withNoGrad { x.linear(q) } }.scalars
                    XCTAssertEqual(got.count, m * n)
                    for (a, b) in zip(got, want) { XCTAssertEqual(a, b, accuracy: 1e-4, "\(format) \(path) m=\(m)") }
                }
            }
        }
    }

    /// Backward through a frozen quantized weight: the input gradient is dY · W_decoded (and the
    /// bias gradient the column sums of dY), exactly what the float layer with the decoded weight gives.
    func testInputAndBiasGradientsEqualThoseOfTheDecodedFloatLayer() throws {
        let k = 64, n = 45, m = 20
        let q = try QuantizedMatrix(quantizing: random([n, k], seed: 4), format: .q4_1, name: "w")
        let wd = q.dequantized()
        let c = random([m, n], seed: 5)
        func grads(_ forward: (Tensor, Tensor) -> Tensor) -> ([Float], [Float]) {
            let x = random([m, k], seed: 6), bias = random([n], seed: 7)
            x.requiresGrad = true
            bias.requiresGrad = true
            (forward(x, bias) * c).sum().backward()
            return (x.grad!.scalars, bias.grad!.scalars)
        }
        let (dxQ, dbQ) = grads { x, b in x.linear(q, bias: b) }
        let (dxF, dbF) = grads { x, b in x.linear(wd, bias: b) }
        XCTAssertEqual(dxQ.count, m * k)
        for (a, b) in zip(dxQ, dxF) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        for (a, b) in zip(dbQ, dbF) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testQuantizingRefusesRowsThatAreNotWholeBlocksAndFormatsItCannotWrite() {
        XCTAssertThrowsError(try QuantizedMatrix(quantizing: random([3, 40], seed: 8), format: .q8_0, name: "layer.weight")) { e in
            XCTAssertEqual("\(e)", "layer.weight: a row of 40 values is not a whole number of Q8_0 blocks of 32")
        }
        XCTAssertThrowsError(try QuantizedMatrix(quantizing: random([3, 256], seed: 8), format: .q4_K, name: "layer.weight")) { e in
            XCTAssertEqual("\(e)", "layer.weight: quantizing to Q4_K is not supported (supported: Q8_0, Q4_0, Q4_1)")
        }
    }

    /// Query/key rows are reordered by whole rows of blocks: row i of the result decodes to row
    /// order[i] of the original.
    func testGatheringRowsMovesWholeRows() throws {
        let q = try QuantizedMatrix(quantizing: random([4, 32], seed: 9), format: .q8_0, name: "w")
        let g = try q.gatheringRows([2, 0, 3, 1], name: "w")
        let a = q.dequantized().scalars, b = g.dequantized().scalars
        for (i, from) in [2, 0, 3, 1].enumerated() { XCTAssertEqual(Array(b[(i * 32)..<(i * 32 + 32)]), Array(a[(from * 32)..<(from * 32 + 32)])) }
    }
}
