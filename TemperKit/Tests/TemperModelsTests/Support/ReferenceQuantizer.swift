import Foundation
@testable import TemperModels

/// Reference encoders for GGML block formats, written from the format description, independent of
/// the dequantizers under test. Each returns the encoded bytes and the values the block represents,
/// computed from the chosen codes and the F16-rounded scales (not by decoding the bytes).
enum ReferenceQuantizer {
    static func f16(_ x: Float) -> (bits: UInt16, value: Float) {
        let h = Float16(x)
        return (h.bitPattern, Float(h))
    }

    static func appendU16(_ v: UInt16, _ b: inout [UInt8]) { b.append(UInt8(v & 0xFF)); b.append(UInt8(v >> 8)) }

    /// Packs 32 4-bit codes: code j in the low nibble of byte j, code j+16 in its high nibble.
    static func nibbles(_ q: [Int]) -> [UInt8] {
        (0..<16).map { UInt8(q[$0] & 0xF) | UInt8((q[$0 + 16] & 0xF) << 4) }
    }

    /// The fifth bits of 32 5-bit codes as a little-endian u32 (bit j for code j).
    static func fifthBits(_ q: [Int]) -> [UInt8] {
        var h: UInt32 = 0
        for j in 0..<32 where q[j] & 0x10 != 0 { h |= 1 << UInt32(j) }
        return [UInt8(h & 0xFF), UInt8((h >> 8) & 0xFF), UInt8((h >> 16) & 0xFF), UInt8(h >> 24)]
    }

    /// The value with the largest magnitude, keeping its sign.
    static func signedMax(_ x: ArraySlice<Float>) -> Float {
        x.max { abs($0) < abs($1) } ?? 0
    }

    static func encode(_ type: GGMLType, _ x: [Float]) -> (bytes: [UInt8], values: [Float]) {
        precondition(x.count % 32 == 0)
        var bytes = [UInt8](), values = [Float]()
        for start in stride(from: 0, to: x.count, by: 32) {
            let blk = x[start..<(start + 32)]
            switch type {
            case .q8_0:
                let amax = blk.map(abs).max()!
                let d = f16(amax / 127)
                let inv: Float = amax == 0 ? 0 : 127 / amax
                let q = blk.map { Int(($0 * inv).rounded()) }
                appendU16(d.bits, &bytes)
                bytes.append(contentsOf: q.map { UInt8(bitPattern: Int8($0)) })
                values += q.map { Float($0) * d.value }
            case .q4_0, .q5_0:
                let levels: Float = type == .q4_0 ? 8 : 16
                let top = type == .q4_0 ? 15 : 31
                let m = signedMax(blk)
                let d = f16(m / -levels)
                let inv: Float = m == 0 ? 0 : -levels / m
                let q = blk.map { min(top, Int($0 * inv + levels + 0.5)) }
                appendU16(d.bits, &bytes)
                if type == .q5_0 { bytes += fifthBits(q) }
                bytes += nibbles(q)
                values += q.map { Float($0 - Int(levels)) * d.value }
            case .q4_1, .q5_1:
                let top = type == .q4_1 ? 15 : 31
                let lo = blk.min()!, hi = blk.max()!
                let d = f16((hi - lo) / Float(top))
                let m = f16(lo)
                let inv: Float = hi == lo ? 0 : Float(top) / (hi - lo)
                let q = blk.map { min(top, Int((($0 - lo) * inv + 0.5))) }
                appendU16(d.bits, &bytes)
                appendU16(m.bits, &bytes)
                if type == .q5_1 { bytes += fifthBits(q) }
                bytes += nibbles(q)
                values += q.map { Float($0) * d.value + m.value }
            default:
                preconditionFailure("no reference encoder for \(type)")
            }
        }
        return (bytes, values)
    }

    /// A Q4_K or Q5_K super-block from explicit parts: scales and mins (0...63) of the eight
    /// sub-blocks of 32, and 256 codes (0...15, or 0...31 for Q5_K).
    static func kBlock(_ type: GGMLType, d: Float, dmin: Float, scales: [Int], mins: [Int], codes q: [Int]) -> (bytes: [UInt8], values: [Float]) {
        let dh = f16(d), mh = f16(dmin)
        var packed = [UInt8](repeating: 0, count: 12)
        for j in 0..<8 {
            if j < 4 {
                packed[j] |= UInt8(scales[j] & 63)
                packed[j + 4] |= UInt8(mins[j] & 63)
            } else {
                packed[j + 4] = UInt8(scales[j] & 0xF) | UInt8((mins[j] & 0xF) << 4)
                packed[j - 4] |= UInt8((scales[j] >> 4) << 6)
                packed[j] |= UInt8((mins[j] >> 4) << 6)
            }
        }
        var b = [UInt8]()
        appendU16(dh.bits, &b)
        appendU16(mh.bits, &b)
        b += packed
        if type == .q5_K {
            var qh = [UInt8](repeating: 0, count: 32)
            for k in 0..<4 {
                for l in 0..<32 {
                    if q[64 * k + l] & 16 != 0 { qh[l] |= UInt8(1 << (2 * k)) }
                    if q[64 * k + 32 + l] & 16 != 0 { qh[l] |= UInt8(1 << (2 * k + 1)) }
                }
            }
            b += qh
        }
        for k in 0..<4 {
            for l in 0..<32 { b.append(UInt8(q[64 * k + l] & 0xF) | UInt8((q[64 * k + 32 + l] & 0xF) << 4)) }
        }
        let values = (0..<256).map { e in
            dh.value * Float(scales[e / 32]) * Float(q[e]) - mh.value * Float(mins[e / 32])
        }
        return (b, values)
    }

    /// A Q6_K super-block from 16 signed scales (one per 16 values) and 256 codes in 0...63.
    static func q6KBlock(d: Float, scales: [Int], codes q: [Int]) -> (bytes: [UInt8], values: [Float]) {
        let dh = f16(d)
        var ql = [UInt8](repeating: 0, count: 128), qh = [UInt8](repeating: 0, count: 64)
        for n in 0..<2 {
            for l in 0..<32 {
                let e = 128 * n + l
                let (a, b2, c, e4) = (q[e], q[e + 32], q[e + 64], q[e + 96])
                ql[64 * n + l] = UInt8(a & 0xF) | UInt8((c & 0xF) << 4)
                ql[64 * n + 32 + l] = UInt8(b2 & 0xF) | UInt8((e4 & 0xF) << 4)
                qh[32 * n + l] = UInt8(a >> 4) | UInt8(b2 >> 4) << 2 | UInt8(c >> 4) << 4 | UInt8(e4 >> 4) << 6
            }
        }
        var b = ql + qh + scales.map { UInt8(bitPattern: Int8($0)) }
        appendU16(dh.bits, &b)
        let values = (0..<256).map { e in dh.value * Float(scales[e / 16]) * Float(q[e] - 32) }
        return (b, values)
    }
}
