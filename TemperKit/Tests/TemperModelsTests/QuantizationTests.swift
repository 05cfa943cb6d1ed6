import Foundation
import XCTest
@testable import TemperModels
import TemperTensor

final class QuantizationTests: XCTestCase {
    /// Deterministic test values with a spread of magnitudes and both signs.
    func samples(_ n: Int, seed: UInt64) -> [Float] {
        var rng = PhiloxRNG(seed: seed)
        return (0..<n).map { i in rng.nextNormal() * (i % 7 == 0 ? 3 : 0.5) }
    }

    func decode(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> [Float] {
        var out = [Float](repeating: .nan, count: count)
        bytes.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { GGMLDequantizer.dequantize(type, from: src.baseAddress!, count: count, into: $0.baseAddress!) }
        }
        return out
    }

    func assertClose(_ a: [Float], _ b: [Float], relative: Float = 1e-6, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        var bad = 0
        for i in 0..<min(a.count, b.count) where !(abs(a[i] - b[i]) <= relative * max(1, abs(b[i]))) {
            if bad < 5 { XCTFail("\(what)[\(i)]: \(a[i]) vs expected \(b[i])", file: file, line: line) }
            bad += 1
        }
    }

    func testLegacyFormatsDecodeReferenceEncodings() {
        let x = samples(32 * 6, seed: 7)
        for type in [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1] {
            let (bytes, expected) = ReferenceQuantizer.encode(type, x)
            XCTAssertEqual(bytes.count, 6 * type.typeSize, "\(type) block size")
            let y = decode(type, bytes, count: x.count)
            assertClose(y, expected, "\(type)")
            // And the encoding is a faithful approximation: error within about one quantization step.
            let bits: Float = [.q8_0: 8, .q4_0: 4, .q4_1: 4, .q5_0: 5, .q5_1: 5][type]!
            for b in 0..<6 {
                let blk = x[(32 * b)..<(32 * b + 32)]
                let range = blk.max()! - blk.min()!
                let step = 2 * range / (pow(2, bits) - 1)
                for i in (32 * b)..<(32 * b + 32) {
                    XCTAssertLessThanOrEqual(abs(y[i] - x[i]), step, "\(type) value \(i)")
                }
            }
        }
    }

    func testLegacyFormatsHandExample() {
        // Q4_0 with d = 0.5: code 8 is zero, code 0 is -4, code 15 is 3.5.
        var codes = [Int](repeating: 8, count: 32)
        codes[0] = 0; codes[1] = 15; codes[16] = 3; codes[31] = 12
        var bytes = [UInt8]()
        ReferenceQuantizer.appendU16(Float16(0.5).bitPattern, &bytes)
        bytes += ReferenceQuantizer.nibbles(codes)
        let y = decode(.q4_0, bytes, count: 32)
        XCTAssertEqual(y[0], -4); XCTAssertEqual(y[1], 3.5); XCTAssertEqual(y[16], -2.5); XCTAssertEqual(y[31], 2)
        XCTAssertEqual(y[5], 0)

        // Q5_1 with d = 0.25, m = -1: code 31 (fifth bit set) is 6.75, code 16 is 3.
        var q5 = [Int](repeating: 0, count: 32)
        q5[3] = 31; q5[20] = 16; q5[31] = 1
        var b5 = [UInt8]()
        ReferenceQuantizer.appendU16(Float16(0.25).bitPattern, &b5)
        ReferenceQuantizer.appendU16(Float16(-1).bitPattern, &b5)
        b5 += ReferenceQuantizer.fifthBits(q5) + ReferenceQuantizer.nibbles(q5)
        let y5 = decode(.q5_1, b5, count: 32)
        XCTAssertEqual(y5[3], 6.75); XCTAssertEqual(y5[20], 3); XCTAssertEqual(y5[31], -0.75); XCTAssertEqual(y5[0], -1)
    }

    func testKQuantsDecodeHandBuiltBlocks() {
        var rng = PhiloxRNG(seed: 11)
        func rand(_ n: Int) -> Int { Int(rng.nextUniform() * Float(n)) % n }
        for type in [GGMLType.q4_K, .q5_K] {
            var bytes = [UInt8](), expected = [Float]()
            for blk in 0..<3 {
                // Extremes in the first block exercise every bit of the 6-bit packing.
                let scales = blk == 0 ? [63, 0, 1, 62, 33, 63, 17, 48] : (0..<8).map { _ in rand(64) }
                let mins = blk == 0 ? [0, 63, 62, 1, 63, 31, 32, 5] : (0..<8).map { _ in rand(64) }
                let codes = (0..<256).map { _ in rand(type == .q4_K ? 16 : 32) }
                let (b, v) = ReferenceQuantizer.kBlock(type, d: 0.01 * Float(blk + 1), dmin: 0.003, scales: scales, mins: mins, codes: codes)
                XCTAssertEqual(b.count, type.typeSize)
                bytes += b; expected += v
            }
            assertClose(decode(type, bytes, count: 768), expected, relative: 1e-5, "\(type)")
        }
        var bytes = [UInt8](), expected = [Float]()
        for blk in 0..<3 {
            let scales = blk == 0 ? [127, -128, 1, -1, 0, 64, -64, 5, 9, -9, 100, -100, 2, 3, 4, 5] : (0..<16).map { _ in rand(256) - 128 }
            let codes = blk == 0 ? (0..<256).map { $0 % 64 } : (0..<256).map { _ in rand(64) }
            let (b, v) = ReferenceQuantizer.q6KBlock(d: 0.002 * Float(blk + 1), scales: scales, codes: codes)
            XCTAssertEqual(b.count, GGMLType.q6_K.typeSize)
            bytes += b; expected += v
        }
        assertClose(decode(.q6_K, bytes, count: 768), expected, relative: 1e-5, "Q6_K")
    }

    func testLargeTensorDecodesInParallelChunks() {
        // Enough blocks for several parallel chunks; every chunk must land at its own offset.
        let n = 32 * 4096
        let x = samples(n, seed: 3)
        let (bytes, expected) = ReferenceQuantizer.encode(.q8_0, x)
        assertClose(decode(.q8_0, bytes, count: n), expected, "Q8_0 large")
    }

    func testHalfPrecisionConversions() {
        let specials: [Float] = [0, -0.0, 1, -2, 65504, 1e-7, 6.1e-5, .infinity, -.infinity, 3.14159, -0.1, 1e5]
        var f16 = [UInt8](), bf16 = [UInt8]()
        for v in specials {
            ReferenceQuantizer.appendU16(Float16(v).bitPattern, &f16)
            ReferenceQuantizer.appendU16(UInt16(v.bitPattern >> 16), &bf16)
        }
        let y16 = decode(.f16, f16, count: specials.count)
        let yb = decode(.bf16, bf16, count: specials.count)
        for (i, v) in specials.enumerated() {
            XCTAssertEqual(y16[i].bitPattern, Float(Float16(v)).bitPattern, "F16 \(v)")
            XCTAssertEqual(yb[i].bitPattern, v.bitPattern & 0xFFFF_0000, "BF16 \(v)")
        }
        XCTAssertEqual(HalfConversion.bf16Bits(1.0), 0x3F80)
        // 1 + 2^-8 is a tie between bf16 neighbours 1 and 1 + 2^-7: ties go to even (1).
        XCTAssertEqual(HalfConversion.bf16Bits(1 + 1.0 / 256), 0x3F80)
        // 1 + 3·2^-8 ties between 1 + 2^-7 (odd) and 1 + 2^-6 (even).
        XCTAssertEqual(HalfConversion.bf16Bits(1 + 3.0 / 256), 0x3F82)
        XCTAssertEqual(HalfConversion.bf16Bits(1 + 1.5 / 256), 0x3F81)
        XCTAssertTrue(HalfConversion.floatFromBF16(HalfConversion.bf16Bits(.nan)).isNaN)
        XCTAssertEqual(HalfConversion.f16Bits(1e6), Float16.infinity.bitPattern)
    }

    func testQuantizedTensorsThroughAGGUFFile() throws {
        let x = samples(64 * 2, seed: 5)   // a [2, 64] matrix: GGUF dims [64, 2]
        var b = GGUFBuilder()
        var expected = [String: [Float]]()
        for type in [GGMLType.q8_0, .q4_0, .q4_1, .q5_0, .q5_1] {
            let (bytes, values) = ReferenceQuantizer.encode(type, x)
            b.addTensor("w.\(type)", dims: [64, 2], type: type, data: bytes)
            expected["w.\(type)"] = values
        }
        let (kb, kv) = ReferenceQuantizer.q6KBlock(d: 0.01, scales: (0..<16).map { $0 - 8 }, codes: (0..<256).map { ($0 * 7) % 64 })
        b.addTensor("w.Q6_K", dims: [256, 1], type: .q6_K, data: kb)
        expected["w.Q6_K"] = kv
        let g = try GGUFFile(contentsOf: try b.write())
        for (name, values) in expected {
            let t = try g.tensor(named: name)
            XCTAssertEqual(t.shape, name == "w.Q6_K" ? [1, 256] : [2, 64], name)
            assertClose(t.scalars, values, name)
        }
    }
}
