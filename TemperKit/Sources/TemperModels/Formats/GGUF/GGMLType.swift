import TemperTensor

/// A GGML tensor element type, as stored in a GGUF tensor info.
///
/// Quantized types pack a block of `blockSize` values into `typeSize` bytes; a row's length must be
/// a multiple of the block size. Types Temper can read but not dequantize are still listed so a file
/// containing them opens and its other tensors stay usable.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, bf16 = 30

    /// Values per block (1 for plain types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .i8, .i16, .i32, .i64, .f64: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1: return 32
        case .q2_K, .q3_K, .q4_K, .q5_K, .q6_K, .q8_K: return 256
        }
    }

    /// Bytes per block.
    public var typeSize: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8: return 1
        case .i64, .f64: return 8
        case .q4_0: return 18      // f16 scale + 16 bytes of nibbles
        case .q4_1: return 20      // f16 scale, f16 min + 16 bytes
        case .q5_0: return 22      // f16 scale, 4 bytes of high bits + 16 bytes
        case .q5_1: return 24      // f16 scale, f16 min, 4 + 16 bytes
        case .q8_0: return 34      // f16 scale + 32 int8
        case .q8_1: return 36      // f16 scale, f16 sum + 32 int8
        case .q2_K: return 84
        case .q3_K: return 110
        case .q4_K: return 144     // f16 d, f16 dmin, 12 bytes of 6-bit scales/mins, 128 bytes of nibbles
        case .q5_K: return 176     // as q4_K plus 32 bytes of high bits
        case .q6_K: return 210     // 128 bytes low nibbles, 64 bytes high bits, 16 int8 scales, f16 d
        case .q8_K: return 292
        }
    }

    /// The block format a weight of this type keeps when loaded quantized (`QuantizedMatrix`); nil
    /// for plain types and for block types without kernels (Q2_K, Q3_K, Q8_1, Q8_K).
    public var quantFormat: QuantFormat? { QuantFormat(rawValue: description) }

    /// Whether `GGMLDequantizer` can turn this type into float32.
    public var canDequantize: Bool {
        switch self {
        case .f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K: return true
        default: return false
        }
    }

    /// The type's name as llama.cpp prints it (`Q4_K`, `F16`, ...).
    public var description: String {
        switch self {
        case .f32: return "F32"
        case .f16: return "F16"
        case .bf16: return "BF16"
        case .q4_0: return "Q4_0"
        case .q4_1: return "Q4_1"
        case .q5_0: return "Q5_0"
        case .q5_1: return "Q5_1"
        case .q8_0: return "Q8_0"
        case .q8_1: return "Q8_1"
        case .q2_K: return "Q2_K"
        case .q3_K: return "Q3_K"
        case .q4_K: return "Q4_K"
        case .q5_K: return "Q5_K"
        case .q6_K: return "Q6_K"
        case .q8_K: return "Q8_K"
        case .i8: return "I8"
        case .i16: return "I16"
        case .i32: return "I32"
        case .i64: return "I64"
        case .f64: return "F64"
        }
    }
}
