/// Where one tensor lives in a GGUF file and how it is encoded.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's GGUF name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// GGML dimensions, innermost first: `dimensions[0]` is the row length.
    public let dimensions: [Int]
    /// Element encoding.
    public let type: GGMLType
    /// Byte offset of the data from the start of the file's data section.
    public let offset: Int
    /// Bytes the data occupies.
    public let byteCount: Int

    /// Row-major shape, outermost first (the Hugging Face / PyTorch order): `dimensions` reversed.
    public var shape: [Int] { dimensions.reversed() }

    /// Number of elements.
    public var elementCount: Int { dimensions.reduce(1, *) }
}
