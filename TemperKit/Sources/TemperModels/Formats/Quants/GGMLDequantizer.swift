import TemperTensor

/// Turns GGML-encoded tensor data into float32, in parallel over blocks.
public enum GGMLDequantizer {
    /// Values per parallel chunk at least; below twice this a tensor is decoded on one thread.
    static let grainValues = 1 << 15

    /// Decodes `count` values of `type` from `src` into `dst`.
    ///
    /// `count` must be a multiple of the type's block size and `src` must hold
    /// `count / blockSize * typeSize` bytes — `GGUFFile` checks both against the file before calling.
    public static func dequantize(_ type: GGMLType, from src: UnsafeRawPointer, count: Int, into dst: UnsafeMutablePointer<Float>) {
        precondition(type.canDequantize, "\(type) cannot be dequantized")
        precondition(count % type.blockSize == 0, "\(count) values are not whole \(type) blocks")
        let kernel: (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
        switch type {
        case .f32: kernel = { s, d, n in UnsafeMutableRawPointer(d).copyMemory(from: s, byteCount: 4 * n) }
        case .f16: kernel = { s, d, n in HalfConversion.f16ToFloat(s, d, count: n) }
        case .bf16: kernel = { s, d, n in HalfConversion.bf16ToFloat(s, d, count: n) }
        default:
            guard let format = type.quantFormat else { preconditionFailure("\(type) cannot be dequantized") }
            kernel = { s, d, n in format.decode(s, d, blocks: n) }
        }
        let blockValues = type.blockSize, blockBytes = type.typeSize
        let blocks = count / blockValues
        Parallel.forRanges(blocks, grain: max(1, grainValues / blockValues)) { r in
            kernel(src + r.lowerBound * blockBytes, dst + r.lowerBound * blockValues, r.count)
        }
    }
}
