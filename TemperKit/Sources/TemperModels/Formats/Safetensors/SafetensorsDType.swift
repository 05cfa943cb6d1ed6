import TemperTensor

/// An element type named in a safetensors header.
///
/// All types of the format are recognised so every tensor's byte span can be checked; Temper
/// converts F32, F16 and BF16 to float32 and reads I32 as int32.
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case BOOL, U8, I8, F8_E4M3, F8_E5M2, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .BOOL, .U8, .I8, .F8_E4M3, .F8_E5M2: return 1
        case .I16, .U16, .F16, .BF16: return 2
        case .I32, .U32, .F32: return 4
        case .F64, .I64, .U64: return 8
        }
    }

    /// The tensor dtype that holds this type's raw bits, if Temper has one.
    public var tensorDType: DType? {
        switch self {
        case .F32: return .float32
        case .F16: return .float16
        case .BF16: return .bfloat16
        case .I32: return .int32
        default: return nil
        }
    }

    /// The safetensors type for a tensor dtype.
    public init(_ dtype: DType) {
        switch dtype {
        case .float32: self = .F32
        case .float16: self = .F16
        case .bfloat16: self = .BF16
        case .int32: self = .I32
        }
    }
}

/// Where one tensor lives in a safetensors file.
public struct SafetensorsTensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `model.layers.0.self_attn.q_proj.weight`.
    public let name: String
    /// Element type.
    public let dtype: SafetensorsDType
    /// Row-major shape.
    public let shape: [Int]
    /// Byte range within the data section (after the header).
    public let dataRange: Range<Int>

    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }
}
