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

    /// The format's code for the integer dot products in C (CTemperSupport/QuantizedDot.c), or nil
    /// where products go through dequantized rows: the 5-bit and K formats.
    var integerDotCode: Int32? {
        switch self {
        case .q8_0: return 0
        case .q4_0: return 1
        case .q4_1: return 2
        default: return nil
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
