import Foundation
import TemperTensor

/// Writes tensors as a safetensors file, atomically.
///
/// Tensors are laid out in name order; the JSON header is padded with spaces so the data section
/// starts on an 8-byte boundary (as the reference writer does), which keeps every F32 tensor
/// aligned for zero-copy reading. The file is written beside its destination and renamed into
/// place, so a crash never leaves a half-written checkpoint under the real name.
public enum SafetensorsWriter {
    /// Elements converted per write when narrowing, bounding the staging buffer.
    static let chunkElements = 1 << 20

    /// Writes `tensors` to `url`.
    ///
    /// - Parameters:
    ///   - dtype: the type to store float tensors as (F32, F16 or BF16); nil keeps each tensor's own
    ///     dtype. int32 tensors are always stored as I32.
    ///   - metadata: the `__metadata__` strings; Hugging Face loaders expect `format: pt`.
    public static func write(_ tensors: [String: Tensor], to url: URL, dtype: SafetensorsDType? = nil,
                             metadata: [String: String] = ["format": "pt"]) throws {
        if let dtype, ![.F32, .F16, .BF16].contains(dtype) {
            throw ModelFormatError(file: url.path, "cannot write float tensors as \(dtype); use F32, F16 or BF16")
        }
        let names = tensors.keys.sorted()
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var plan = [(name: String, tensor: Tensor, dtype: SafetensorsDType)]()
        var offset = 0
        for name in names {
            guard name != "__metadata__" else { throw ModelFormatError(file: url.path, "a tensor cannot be named '__metadata__'") }
            let t = tensors[name]!
            let target: SafetensorsDType = t.dtype == .int32 ? .I32 : (dtype ?? SafetensorsDType(t.dtype))
            let bytes = t.count * target.byteSize
            header[name] = ["dtype": target.rawValue, "shape": t.shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            plan.append((name, t, target))
            offset += bytes
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        let padding = (8 - (8 + json.count) % 8) % 8
        json.append(contentsOf: [UInt8](repeating: 0x20, count: padding))

        try AtomicFileWriter.write(to: url) { handle in
            var length = UInt64(json.count).littleEndian
            try handle.write(contentsOf: Data(bytes: &length, count: 8))
            try handle.write(contentsOf: json)
            for item in plan { try writeData(item.tensor, as: item.dtype, to: handle) }
        }
    }

    private static func writeData(_ tensor: Tensor, as target: SafetensorsDType, to handle: FileHandle) throws {
        let stored = SafetensorsDType(tensor.dtype)
        let n = tensor.count
        if n == 0 { return }
        if stored == target {
            let c = tensor.isContiguous ? tensor : tensor.copy()
            try withExtendedLifetime(c) {
                let p = c.storage.base + c.offset * c.dtype.byteSize
                try handle.write(contentsOf: Data(bytesNoCopy: p, count: n * c.dtype.byteSize, deallocator: .none))
            }
            return
        }
        // Narrowing (or re-encoding a half tensor) goes through float32 in bounded chunks.
        let source = tensor.dtype == .float32 ? tensor.contiguous() : widened(tensor)
        let staging = UnsafeMutableRawPointer.allocate(byteCount: 2 * chunkElements, alignment: 64)
        defer { staging.deallocate() }
        try withExtendedLifetime(source) {
            let src = source.floatPointer
            var i = 0
            while i < n {
                let m = min(chunkElements, n - i)
                if target == .F16 { HalfConversion.floatToF16(src + i, staging, count: m) }
                else if target == .BF16 { HalfConversion.floatToBF16(src + i, staging, count: m) }
                else { preconditionFailure("float32 is written directly") }
                try handle.write(contentsOf: Data(bytesNoCopy: staging, count: 2 * m, deallocator: .none))
                i += m
            }
        }
    }

    /// A float32 copy of a half-precision tensor.
    private static func widened(_ tensor: Tensor) -> Tensor {
        let c = tensor.isContiguous ? tensor : tensor.copy()
        let out = Tensor(uninitializedShape: c.shape)
        let src = UnsafeRawPointer(c.storage.base + c.offset * 2)
        if c.dtype == .float16 { HalfConversion.f16ToFloat(src, out.floatPointer, count: c.count) }
        else { HalfConversion.bf16ToFloat(src, out.floatPointer, count: c.count) }
        return withExtendedLifetime(c) { out }
    }
}
