/// Dequantization of GGML's 256-value "K" super-block formats: Q4_K, Q5_K, Q6_K.
///
/// Q4_K / Q5_K split a super-block into eight sub-blocks of 32 with 6-bit scales and mins (packed
/// into 12 bytes) under F16 super-scales `d` and `dmin`: value = `d * sc * q - dmin * m`. Each run of
/// 32 bytes of nibbles covers 64 values: low nibbles the first 32 (sub-block 2k), high nibbles the
/// next 32 (sub-block 2k+1). Q5_K adds a fifth bit per value from 32 shared bytes, bit 2k for the
/// low half and 2k+1 for the high half of run k. Q6_K has sixteen sub-blocks of 16 with signed 8-bit
/// scales: value = `d * sc * (q - 32)`, its 6-bit codes split into nibbles and 2-bit pairs.
package enum KQuants {
    static let blockValues = 256

    @inline(__always)
    private static func store(_ v: SIMD16<Float>, _ dst: UnsafeMutablePointer<Float>, _ at: Int) {
        UnsafeMutableRawPointer(dst + at).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    @inline(__always)
    private static func floats(_ q: SIMD16<UInt8>) -> SIMD16<Float> {
        SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q))
    }

    @inline(__always)
    private static func half(_ p: UnsafeRawPointer, _ at: Int) -> Float {
        HalfConversion.floatFromF16(p.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }

    /// Scale and min of sub-block `j` (0..<8) from the 12 packed bytes at `s`: sub-blocks 0–3 use the
    /// low six bits of bytes j and j+4; 4–7 take their low four bits from byte j+4's nibbles and their
    /// top two bits from the spare high bits of bytes j-4 and j.
    @inline(__always)
    static func scaleAndMin(_ j: Int, _ s: UnsafeRawPointer) -> (Float, Float) {
        let b = s.assumingMemoryBound(to: UInt8.self)
        if j < 4 { return (Float(b[j] & 63), Float(b[j + 4] & 63)) }
        let sc = (b[j + 4] & 0xF) | ((b[j - 4] >> 6) << 4)
        let m = (b[j + 4] >> 4) | ((b[j] >> 6) << 4)
        return (Float(sc), Float(m))
    }

    /// Q4_K: 144-byte blocks (d, dmin, 12 scale bytes, 128 bytes of nibbles).
    package static func q4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let blk = src + b * QuantFormat.q4_K.blockBytes
            let d = half(blk, 0), dmin = half(blk, 2)
            let scales = blk + 4, qs = blk + 16
            let y = dst + b * 256
            for k in 0..<4 {
                let (s1, m1) = scaleAndMin(2 * k, scales), (s2, m2) = scaleAndMin(2 * k + 1, scales)
                let d1 = d * s1, c1 = dmin * m1, d2 = d * s2, c2 = dmin * m2
                for h in 0..<2 {
                    let q = qs.loadUnaligned(fromByteOffset: 32 * k + 16 * h, as: SIMD16<UInt8>.self)
                    store(floats(q & 0xF) * d1 - c1, y, 64 * k + 16 * h)
                    store(floats(q &>> 4) * d2 - c2, y, 64 * k + 32 + 16 * h)
                }
            }
        }
    }

    /// Q5_K: 176-byte blocks (d, dmin, 12 scale bytes, 32 bytes of fifth bits, 128 bytes of nibbles).
    package static func q5_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let blk = src + b * QuantFormat.q5_K.blockBytes
            let d = half(blk, 0), dmin = half(blk, 2)
            let scales = blk + 4, qh = blk + 16, qs = blk + 48
            let y = dst + b * 256
            for k in 0..<4 {
                let (s1, m1) = scaleAndMin(2 * k, scales), (s2, m2) = scaleAndMin(2 * k + 1, scales)
                let d1 = d * s1, c1 = dmin * m1, d2 = d * s2, c2 = dmin * m2
                let lowBit = UInt8(2 * k), highBit = UInt8(2 * k + 1)
                for h in 0..<2 {
                    let q = qs.loadUnaligned(fromByteOffset: 32 * k + 16 * h, as: SIMD16<UInt8>.self)
                    let hb = qh.loadUnaligned(fromByteOffset: 16 * h, as: SIMD16<UInt8>.self)
                    let fifthLo = ((hb &>> lowBit) & 1) &<< 4
                    let fifthHi = ((hb &>> highBit) & 1) &<< 4
                    store(floats((q & 0xF) | fifthLo) * d1 - c1, y, 64 * k + 16 * h)
                    store(floats((q &>> 4) | fifthHi) * d2 - c2, y, 64 * k + 32 + 16 * h)
                }
            }
        }
    }

    /// Q6_K: 210-byte blocks (128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 int8
    /// scales, then d). Each half of 128 values uses 64 nibble bytes, 32 high-part bytes, 8 scales.
    package static func q6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let blk = src + b * QuantFormat.q6_K.blockBytes
            let d = half(blk, 208)
            let sc = (blk + 192).assumingMemoryBound(to: Int8.self)
            for n in 0..<2 {
                let ql = blk + 64 * n, qh = blk + 128 + 32 * n
                let s = sc + 8 * n
                let y = dst + b * 256 + 128 * n
                for h in 0..<2 {
                    let a = ql.loadUnaligned(fromByteOffset: 16 * h, as: SIMD16<UInt8>.self)
                    let c = ql.loadUnaligned(fromByteOffset: 32 + 16 * h, as: SIMD16<UInt8>.self)
                    let hi = qh.loadUnaligned(fromByteOffset: 16 * h, as: SIMD16<UInt8>.self)
                    let q1 = (a & 0xF) | ((hi & 3) &<< 4)
                    let q2 = (c & 0xF) | (((hi &>> 2) & 3) &<< 4)
                    let q3 = (a &>> 4) | (((hi &>> 4) & 3) &<< 4)
                    let q4 = (c &>> 4) | (((hi &>> 6) & 3) &<< 4)
                    store((floats(q1) - 32) * (d * Float(s[h])), y, 16 * h)
                    store((floats(q2) - 32) * (d * Float(s[h + 2])), y, 32 + 16 * h)
                    store((floats(q3) - 32) * (d * Float(s[h + 4])), y, 64 + 16 * h)
                    store((floats(q4) - 32) * (d * Float(s[h + 6])), y, 96 + 16 * h)
                }
            }
        }
    }
}
