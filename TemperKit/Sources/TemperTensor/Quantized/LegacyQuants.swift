/// Dequantization of GGML's 32-value block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0.
///
/// Every block starts with an F16 scale `d` (and for the `_1` formats an F16 offset `m`). 4- and
/// 5-bit formats store value `j` in the low nibble of byte `j` and value `j + 16` in its high
/// nibble; the 5-bit formats keep the fifth bit of value `j` in bit `j` of a little-endian u32.
/// Values are `d * (q - zero)` (zero 8, 16 or 0) or `d * q + m`.
package enum LegacyQuants {
    static let blockValues = 32

    /// Bit positions 0...15, for pulling the fifth bits out of a Q5 block's u32.
    private static let lanes = SIMD16<UInt32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

    @inline(__always)
    private static func store(_ v: SIMD16<Float>, _ dst: UnsafeMutablePointer<Float>, _ at: Int) {
        UnsafeMutableRawPointer(dst + at).storeBytes(of: v, as: SIMD16<Float>.self)
    }

    @inline(__always)
    private static func scale(_ block: UnsafeRawPointer, _ at: Int) -> Float {
        HalfConversion.floatFromF16(block.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }

    @inline(__always)
    private static func floats(_ q: SIMD16<UInt32>) -> SIMD16<Float> {
        SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q))
    }

    /// Q4_0: 18-byte blocks, `d * (q - 8)`.
    package static func q4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let blk = src + b * QuantFormat.q4_0.blockBytes
            let d = scale(blk, 0)
            let q = SIMD16<UInt32>(truncatingIfNeeded: blk.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self))
            store((floats(q & 0xF) - 8) * d, dst, b * 32)
            store((floats(q &>> 4) - 8) * d, dst, b * 32 + 16)
        }
    }

    /// Q4_1: 20-byte blocks, `d * q + m`.
    package static func q4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let blk = src + b * QuantFormat.q4_1.blockBytes
            let d = scale(blk, 0), m = scale(blk, 2)
            let q = SIMD16<UInt32>(truncatingIfNeeded: blk.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self))
            store(floats(q & 0xF) * d + m, dst, b * 32)
            store(floats(q &>> 4) * d + m, dst, b * 32 + 16)
        }
    }

    /// The 5-bit codes of a Q5 block: nibbles from `qs`, fifth bits from `qh`.
    @inline(__always)
    private static func codes5(_ blk: UnsafeRawPointer, qhAt: Int) -> (SIMD16<Float>, SIMD16<Float>) {
        let qh = SIMD16<UInt32>(repeating: UInt32(littleEndian: blk.loadUnaligned(fromByteOffset: qhAt, as: UInt32.self)))
        let q = SIMD16<UInt32>(truncatingIfNeeded: blk.loadUnaligned(fromByteOffset: qhAt + 4, as: SIMD16<UInt8>.self))
        let highLo = ((qh &>> lanes) & 1) &<< 4
        let highHi = ((qh &>> (lanes &+ 16)) & 1) &<< 4
        return (floats((q & 0xF) | highLo), floats((q &>> 4) | highHi))
    }

    /// Q5_0: 22-byte blocks, `d * (q - 16)`.
    package static func q5_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let blk = src + b * QuantFormat.q5_0.blockBytes
            let d = scale(blk, 0)
            let (lo, hi) = codes5(blk, qhAt: 2)
            store((lo - 16) * d, dst, b * 32)
            store((hi - 16) * d, dst, b * 32 + 16)
        }
    }

    /// Q5_1: 24-byte blocks, `d * q + m`.
    package static func q5_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let blk = src + b * QuantFormat.q5_1.blockBytes
            let d = scale(blk, 0), m = scale(blk, 2)
            let (lo, hi) = codes5(blk, qhAt: 4)
            store(lo * d + m, dst, b * 32)
            store(hi * d + m, dst, b * 32 + 16)
        }
    }

    /// Q8_0: 34-byte blocks of 32 signed bytes, `d * q`.
    package static func q8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        for b in 0..<blocks {
            let blk = src + b * QuantFormat.q8_0.blockBytes
            let d = scale(blk, 0)
            for h in 0..<2 {
                let q = blk.loadUnaligned(fromByteOffset: 2 + 16 * h, as: SIMD16<Int8>.self)
                store(SIMD16<Float>(SIMD16<Int32>(truncatingIfNeeded: q)) * d, dst, b * 32 + 16 * h)
            }
        }
    }
}
