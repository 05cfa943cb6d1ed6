/// Conversions between float32 and the 16-bit float formats stored in model files.
///
/// IEEE half (F16) uses the hardware conversion (F16C on x86-64); bfloat16 is the top half of a
/// float32, so widening is a shift and narrowing rounds to nearest-even as PyTorch does. Hosts are
/// little-endian (x86-64, arm64), which is the byte order of both GGUF and safetensors.
public enum HalfConversion {
    /// An IEEE half, given by its bits, as float32.
    @inline(__always)
    public static func floatFromF16(_ bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

    /// A bfloat16, given by its bits, as float32 (exact).
    @inline(__always)
    public static func floatFromBF16(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// The bits of the IEEE half nearest to `x` (ties to even; overflow gives infinity).
    @inline(__always)
    public static func f16Bits(_ x: Float) -> UInt16 { Float16(x).bitPattern }

    /// The bits of the bfloat16 nearest to `x` (ties to even; NaN stays a quiet NaN).
    @inline(__always)
    public static func bf16Bits(_ x: Float) -> UInt16 {
        let b = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: b >> 16) | 0x0040 }
        let roundingBias: UInt32 = 0x7FFF + ((b >> 16) & 1)
        return UInt16(truncatingIfNeeded: (b &+ roundingBias) >> 16)
    }

    /// Widens `count` F16 values at `src` (any alignment) into `dst`.
    public static func f16ToFloat(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let out = UnsafeMutableRawPointer(dst)
        while i + 8 <= count {
            let h = src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self)
            let f = SIMD8<Float>(unsafeBitCast(h, to: SIMD8<Float16>.self))
            out.storeBytes(of: f, toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            dst[i] = floatFromF16(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            i += 1
        }
    }

    /// Widens `count` bfloat16 values at `src` (any alignment) into `dst`.
    public static func bf16ToFloat(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        let out = UnsafeMutableRawPointer(dst)
        while i + 8 <= count {
            let h = src.loadUnaligned(fromByteOffset: 2 * i, as: SIMD8<UInt16>.self)
            let w = SIMD8<UInt32>(truncatingIfNeeded: h) &<< 16
            out.storeBytes(of: unsafeBitCast(w, to: SIMD8<Float>.self), toByteOffset: 4 * i, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            dst[i] = floatFromBF16(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
            i += 1
        }
    }

    /// Narrows `count` floats into F16 bits at `dst` (any alignment).
    public static func floatToF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        for i in 0..<count { dst.storeBytes(of: f16Bits(src[i]), toByteOffset: 2 * i, as: UInt16.self) }
    }

    /// Narrows `count` floats into bfloat16 bits at `dst` (any alignment).
    public static func floatToBF16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count: Int) {
        for i in 0..<count { dst.storeBytes(of: bf16Bits(src[i]), toByteOffset: 2 * i, as: UInt16.self) }
    }
}
