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
    /// 37 rows are four groups of the kernel's eight rows and five single rows; 70 blocks per row
    /// cross its 64-block scale chunk and leave six blocks after the eight-block scale gathers.
    func testFusedKernelsStayWithinTheActivationRoundingBoundOnEveryPath() throws {
        let saved = QuantizedProduct.quantizesActivations
        QuantizedProduct.quantizesActivations = true
        defer { QuantizedProduct.quantizesActivations = saved }
        for k in [96, 70 * 32] {
            let w = random([37, k], seed: 1)
            for format in QuantFormat.encodable { try checkFusedKernel(try QuantizedMatrix(quantizing: w, format: format, name: "w")) }
        }
        // Q5_0, Q5_1 and the K-quants cannot be written here (no quantizer): random blocks with small
        // finite scales (Q6_K's int8 sub-block scales random over their whole range); 2304 values
        // are 72 blocks of 32 (K-quants: 32-value pieces), past the 64-block scale chunk.
        for format in [QuantFormat.q5_0, .q5_1, .q4_K, .q5_K, .q6_K] {
            for k in [512, 2304] { try checkFusedKernel(try randomBlocks(format, rows: 37, columns: k, seed: UInt64(k))) }
        }
    }

    /// `rows × columns` blocks of random bytes whose float16 scales (and minimums) are random in
    /// [0, 0.01).
    private func randomBlocks(_ format: QuantFormat, rows: Int, columns: Int, seed: UInt64) throws -> QuantizedMatrix {
        let blocks = rows * columns / format.blockValues, size = format.blockBytes
        let storage = OwnedBytes(count: blocks * size)
        var rng = PhiloxRNG(seed: seed)
        for i in 0..<(blocks * size) { storage.pointer.storeBytes(of: UInt8(truncatingIfNeeded: rng.next32()), toByteOffset: i, as: UInt8.self) }
        for b in 0..<blocks {
            for offset in format.scaleOffsets {
                let scale = Float(rng.next32() % 1000) / 100_000
                storage.pointer.storeBytes(of: HalfConversion.f16Bits(scale), toByteOffset: b * size + offset, as: UInt16.self)
            }
        }
        return try QuantizedMatrix(format: format, rows: rows, columns: columns, bytes: storage.pointer, owner: storage, name: "w")
    }

    private func checkFusedKernel(_ q: QuantizedMatrix) throws {
        let n = q.rows, k = q.columns, format = q.format
        do {
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
                        XCTAssertLessThanOrEqual(abs(portable - exact), bound + 1e-5 * magnitude, "\(format) k=\(k) m=\(m) row \(i) col \(r)")
                        for (path, y) in byPath {
                            XCTAssertEqual(Double(y[i * n + r]), portable, accuracy: 1e-6 * magnitude + 1e-6, "\(format) \(path) k=\(k) m=\(m)")
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
    /// product of the decoded weights up to summation order, on every path (one activation row runs
    /// eight weight rows at a time: 37 rows leave five; 70 blocks cross the 64-block scale chunk).
    func testFusedFloatActivationKernelEqualsTheFloatProduct() throws {
        let saved = QuantizedProduct.quantizesActivations
        QuantizedProduct.quantizesActivations = false
        defer { QuantizedProduct.quantizesActivations = saved }
        let n = 37
        for k in [96, 70 * 32] {
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
                        for (a, b) in zip(got, want) { XCTAssertEqual(a, b, accuracy: 1e-4 * Float(k / 96), "\(format) \(path) k=\(k) m=\(m)") }
                    }
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

    /// A NaN or infinite block scale is refused when the matrix is made, naming the block and row:
    /// Q8_0's d at the front of its block, Q6_K's d after its codes (byte 208 of 210).
    func testNonFiniteBlockScalesAreRefusedNamingTheBlock() throws {
        let q = try QuantizedMatrix(quantizing: random([3, 64], seed: 8), format: .q8_0, name: "w")
        let copy = OwnedBytes(count: q.byteCount)
        copy.pointer.copyMemory(from: q.base, byteCount: q.byteCount)
        copy.pointer.storeBytes(of: 0x7E00 as UInt16, toByteOffset: 5 * 34, as: UInt16.self)   // block 1 of row 2
        XCTAssertThrowsError(try QuantizedMatrix(format: .q8_0, rows: 3, columns: 64, bytes: copy.pointer, owner: copy, name: "blk.2.ffn_up.weight")) { e in
            XCTAssertEqual("\(e)", "blk.2.ffn_up.weight: block 1 of row 2 has a non-finite scale (nan); the file is damaged")
        }
        let k6 = OwnedBytes(count: 2 * 210)
        k6.pointer.initializeMemory(as: UInt8.self, repeating: 0, count: 2 * 210)
        XCTAssertNoThrow(try QuantizedMatrix(format: .q6_K, rows: 1, columns: 512, bytes: k6.pointer, owner: k6, name: "output.weight"))
        k6.pointer.storeBytes(of: 0x7C00 as UInt16, toByteOffset: 210 + 208, as: UInt16.self)
        XCTAssertThrowsError(try QuantizedMatrix(format: .q6_K, rows: 1, columns: 512, bytes: k6.pointer, owner: k6, name: "output.weight")) { e in
            XCTAssertEqual("\(e)", "output.weight: block 1 of row 0 has a non-finite scale (inf); the file is damaged")
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

    /// Products that share their input (q/k/v, gate/up) in one pass give the bits of separate
    /// products, with int8 and with float activations, for output widths that are not multiples of
    /// the kernels' eight rows (so groups end inside each weight), at one and at several input rows.
    func testSharedInputProductsEqualSeparateProductsBitForBit() throws {
        let saved = QuantizedProduct.quantizesActivations
        defer { QuantizedProduct.quantizesActivations = saved }
        let k = 96
        let weights = try [(37, QuantFormat.q8_0), (64, .q4_1), (45, .q4_0)].enumerated().map { i, spec in
            try QuantizedMatrix(quantizing: random([spec.0, k], seed: UInt64(30 + i)), format: spec.1, name: "w\(i)")
        }
        for int8 in [true, false] {
            QuantizedProduct.quantizesActivations = int8
            for m in [1, 3] {
                let x = random([m, k], seed: UInt64(40 + m))
                let shared = withNoGrad { x.linears(weights) }
                XCTAssertEqual(shared.map(\.shape), weights.map { [m, $0.rows] })
                for (y, w) in zip(shared, weights) {
                    XCTAssertEqual(y.scalars, withNoGrad { x.linear(w) }.scalars, "\(w.format) int8=\(int8) m=\(m)")
                }
            }
        }
    }

    /// `releaseMappedPages` drops pages only of blocks mapped from a file: on bytes the matrix owns
    /// (quantized at load) MADV_DONTNEED would zero them, so the matrix must decode the same after.
    func testReleasingPagesLeavesBlocksTheMatrixOwnsIntact() throws {
        // 64 rows of 2048 values in Q8_0: 139 264 bytes, whole pages inside the allocation.
        let q = try QuantizedMatrix(quantizing: random([64, 2048], seed: 50), format: .q8_0, name: "w")
        let before = q.dequantized().scalars
        q.releaseMappedPages()
        XCTAssertEqual(q.dequantized().scalars, before)
        XCTAssertGreaterThan(before.map(abs).max() ?? 0, 1)
    }

    /// Decoding several sequences at once multiplies a tile of weight rows by up to four activation
    /// rows, each block unpacked once per tile; every (weight row, activation row) pair takes the
    /// single-row kernel's operations in its order, so each sequence gets the bits it would get
    /// alone, in every format and on every path (37 rows: tiles of four and single rows; 72 blocks
    /// cross the 64-block scale chunk).
    func testBatchedRowsGiveTheBitsOfEachRowAlone() throws {
        let saved = QuantizedProduct.quantizesActivations
        QuantizedProduct.quantizesActivations = true
        defer { QuantizedProduct.quantizesActivations = saved }
        var matrices = try QuantFormat.encodable.map { try QuantizedMatrix(quantizing: random([37, 2304], seed: 60), format: $0, name: "w") }
        matrices += try [QuantFormat.q5_0, .q5_1, .q4_K, .q5_K, .q6_K].map { try randomBlocks($0, rows: 37, columns: 2304, seed: 61) }
        let x = random([7, 2304], seed: 62)
        for q in matrices {
            for path in QuantizedDotPath.supported {
                let batch = QuantizedDotPath.using(path) { withNoGrad { x.linear(q) } }.scalars
                for i in 0..<7 {
                    let alone = QuantizedDotPath.using(path) { withNoGrad { x.narrow(0, start: i, length: 1).linear(q) } }.scalars
                    XCTAssertEqual(Array(batch[(i * 37)..<(i * 37 + 37)]), alone, "\(q.format) \(path) row \(i)")
                }
            }
        }
    }
}
