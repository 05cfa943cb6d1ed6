import CTemperSupport

/// A block format a frozen weight matrix can stay in: GGML's 32-value formats (Q4_0, Q4_1, Q5_0,
/// Q5_1, Q8_0) and 256-value K-quants (Q4_K, Q5_K, Q6_K). The raw value is llama.cpp's name.
public enum QuantFormat: String, CaseIterable, Sendable {
    case q4_0 = "Q4_0", q4_1 = "Q4_1", q5_0 = "Q5_0", q5_1 = "Q5_1", q8_0 = "Q8_0"
    case q4_K = "Q4_K", q5_K = "Q5_K", q6_K = "Q6_K"

    /// Values per block; a row's length must be a multiple of it.
    public var blockValues: Int {
        switch self {
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0: return 32
        case .q4_K, .q5_K, .q6_K: return 256
        }
    }

    /// Bytes per block (see LegacyQuants / KQuants for the layouts).
    public var blockBytes: Int {
        switch self {
        case .q4_0: return 18
        case .q4_1: return 20
        case .q5_0: return 22
        case .q5_1: return 24
        case .q8_0: return 34
        case .q4_K: return 144
        case .q5_K: return 176
        case .q6_K: return 210
        }
    }

    /// The format's code for the block products and the quantizer in C (CTemperSupport/QuantizedDot.c).
    var integerDotCode: Int32 {
        switch self {
        case .q8_0: return TEMPER_Q8_0
        case .q4_0: return TEMPER_Q4_0
        case .q4_1: return TEMPER_Q4_1
        case .q5_0: return TEMPER_Q5_0
        case .q5_1: return TEMPER_Q5_1
        case .q4_K: return TEMPER_Q4_K
        case .q5_K: return TEMPER_Q5_K
        case .q6_K: return TEMPER_Q6_K
        }
    }

    /// Whether the C float-activation products and the quantizer read the format: the 32-value
    /// formats Q8_0, Q4_0, Q4_1.
    var hasFloatDot: Bool { QuantFormat.encodable.contains(self) }

    /// Byte offsets in a block of its float16 scales: d (and the minimum or dmin where the format
    /// has one; Q6_K keeps its d after the codes and the 8-bit sub-block scales).
    var scaleOffsets: [Int] {
        switch self {
        case .q4_0, .q5_0, .q8_0: return [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: return [0, 2]
        case .q6_K: return [208]
        }
    }

    /// Formats a float matrix can be quantized to at load (`--quantize`, `--load_in`).
    public static let encodable: [QuantFormat] = [.q8_0, .q4_0, .q4_1]

    /// Decodes `blocks` blocks at `src` into `blocks · blockValues` floats at `dst`.
    package func decode(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, blocks: Int) {
        switch self {
        case .q4_0: LegacyQuants.q4_0(src, dst, blocks: blocks)
        case .q4_1: LegacyQuants.q4_1(src, dst, blocks: blocks)
        case .q5_0: LegacyQuants.q5_0(src, dst, blocks: blocks)
        case .q5_1: LegacyQuants.q5_1(src, dst, blocks: blocks)
        case .q8_0: LegacyQuants.q8_0(src, dst, blocks: blocks)
        case .q4_K: KQuants.q4_K(src, dst, blocks: blocks)
        case .q5_K: KQuants.q5_K(src, dst, blocks: blocks)
        case .q6_K: KQuants.q6_K(src, dst, blocks: blocks)
        }
    }
}
