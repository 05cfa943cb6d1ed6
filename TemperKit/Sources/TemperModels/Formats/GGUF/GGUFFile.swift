import Foundation
import TemperTensor

/// A GGUF model file (versions 2 and 3), memory-mapped.
///
/// Opening parses the header, every metadata value and every tensor info, and checks each count,
/// length, dimension and offset against the file before use, so a truncated or corrupt file is an
/// error naming the key or tensor. Tensor data is not touched until asked for: `tensor(named:)`
/// dequantizes it into a float32 `Tensor`; F32 data is borrowed from the mapping without a copy,
/// and the borrowing tensor keeps the mapping alive.
public final class GGUFFile: @unchecked Sendable {
    /// The four bytes every GGUF file starts with, read as a little-endian u32 ("GGUF").
    static let magic: UInt32 = 0x4655_4747
    /// Data alignment when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// Deepest nesting of arrays accepted (real files use 1); bounds recursion on corrupt input.
    static let maxArrayDepth = 8
    /// GGML supports at most four dimensions.
    static let maxDimensions = 4

    /// Path of the file.
    public let path: String
    /// Format version (2 or 3).
    public let version: Int
    /// All metadata.
    public let metadata: GGUFMetadata
    /// Tensor infos in file order.
    public let tensorInfos: [GGUFTensorInfo]
    /// Alignment of tensor data, from `general.alignment`.
    public let alignment: Int
    /// Byte offset of the data section in the file.
    public let dataOffset: Int

    private let mapping: MappedFile
    private let infoIndex: [String: Int]

    /// Opens and validates the GGUF file at `url`.
    public convenience init(contentsOf url: URL) throws {
        try self.init(mapping: try MappedFile(url: url))
    }

    /// Parses an already mapped file.
    init(mapping: MappedFile) throws {
        self.mapping = mapping
        path = mapping.path
        var r = ByteReader(mapping.bytes, file: path)

        let magic = try r.read(UInt32.self, "the GGUF magic")
        guard magic == Self.magic else {
            throw ModelFormatError(file: path, "not a GGUF file (magic 0x\(String(magic, radix: 16)), expected 0x\(String(Self.magic, radix: 16)) 'GGUF')")
        }
        let v = try r.read(UInt32.self, "the GGUF version")
        if v == 2 << 24 || v == 3 << 24 {
            throw ModelFormatError(file: path, "big-endian GGUF files are not supported")
        }
        guard v == 2 || v == 3 else {
            throw ModelFormatError(file: path, "GGUF version \(v) is not supported (expected 2 or 3)")
        }
        version = Int(v)
        let tensorCount = try r.readCount("the tensor count")
        let kvCount = try r.readCount("the metadata count")
        // Each metadata entry takes at least 13 bytes (key length, type, one byte of value); each
        // tensor info at least 24. Checking first keeps a corrupt count from driving a huge allocation.
        guard kvCount <= r.remaining / 13 else {
            throw ModelFormatError(file: path, "metadata count \(kvCount) cannot fit in the \(r.remaining) bytes left")
        }

        var keys = [String]()
        keys.reserveCapacity(kvCount)
        var values = [String: GGUFValue](minimumCapacity: kvCount)
        for i in 0..<kvCount {
            let key = try r.readString("metadata key #\(i)")
            let value = try Self.readValue(&r, key: key, depth: 0)
            guard values.updateValue(value, forKey: key) == nil else {
                throw ModelFormatError(file: path, "GGUF metadata key '\(key)' appears twice")
            }
            keys.append(key)
        }
        metadata = GGUFMetadata(file: path, keys: keys, values: values)

        if let a = values["general.alignment"] {
            guard case .uint32(let av) = a else {
                throw ModelFormatError(file: path, "GGUF metadata key 'general.alignment' is \(a.typeDescription), expected uint32")
            }
            guard av > 0 && av.nonzeroBitCount == 1 else {
                throw ModelFormatError(file: path, "GGUF metadata key 'general.alignment' is \(av), expected a power of two")
            }
            alignment = Int(av)
        } else {
            alignment = Self.defaultAlignment
        }

        guard tensorCount <= r.remaining / 24 else {
            throw ModelFormatError(file: path, "tensor count \(tensorCount) cannot fit in the \(r.remaining) bytes left")
        }
        var rawInfos = [(name: String, dims: [Int], type: GGMLType, offset: Int, bytes: Int)]()
        rawInfos.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            let name = try r.readString("the name of tensor #\(i)")
            rawInfos.append(try Self.readTensorInfo(&r, name: name, alignment: alignment, file: path))
        }

        let headerEnd = r.position
        let start = (headerEnd + alignment - 1) / alignment * alignment
        dataOffset = start
        let dataSize = max(0, mapping.byteCount - start)

        var infos = [GGUFTensorInfo]()
        infos.reserveCapacity(tensorCount)
        var index = [String: Int](minimumCapacity: tensorCount)
        for t in rawInfos {
            guard t.offset <= dataSize && t.bytes <= dataSize - t.offset else {
                throw ModelFormatError(file: path, "tensor '\(t.name)': data at offset \(t.offset) of \(t.bytes) bytes runs past the end of the file (data section holds \(dataSize) bytes)")
            }
            guard index.updateValue(infos.count, forKey: t.name) == nil else {
                throw ModelFormatError(file: path, "tensor '\(t.name)' appears twice")
            }
            infos.append(GGUFTensorInfo(name: t.name, dimensions: t.dims, type: t.type, offset: t.offset, byteCount: t.bytes))
        }
        let byOffset = infos.sorted { $0.offset < $1.offset }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw ModelFormatError(file: path, "tensors '\(a.name)' and '\(b.name)' overlap in the data section")
        }
        tensorInfos = infos
        infoIndex = index
    }

    private static func readValue(_ r: inout ByteReader, key: String, depth: Int) throws -> GGUFValue {
        let raw = try r.read(UInt32.self, "the type of key '\(key)'")
        guard let type = GGUFValueType(rawValue: raw) else {
            throw ModelFormatError(file: r.file, "GGUF metadata key '\(key)' has unknown value type \(raw)")
        }
        return try readValue(&r, type: type, key: key, depth: depth)
    }

    private static func readValue(_ r: inout ByteReader, type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let ctx = "the value of key '\(key)'"
        switch type {
        case .uint8: return .uint8(try r.read(UInt8.self, ctx))
        case .int8: return .int8(try r.read(Int8.self, ctx))
        case .uint16: return .uint16(try r.read(UInt16.self, ctx))
        case .int16: return .int16(try r.read(Int16.self, ctx))
        case .uint32: return .uint32(try r.read(UInt32.self, ctx))
        case .int32: return .int32(try r.read(Int32.self, ctx))
        case .uint64: return .uint64(try r.read(UInt64.self, ctx))
        case .int64: return .int64(try r.read(Int64.self, ctx))
        case .float32: return .float32(try r.readFloat(ctx))
        case .float64: return .float64(try r.readDouble(ctx))
        case .bool:
            let b = try r.read(UInt8.self, ctx)
            guard b <= 1 else { throw ModelFormatError(file: r.file, "GGUF metadata key '\(key)': bool byte is \(b), expected 0 or 1") }
            return .bool(b == 1)
        case .string: return .string(try r.readString(ctx))
        case .array:
            guard depth < maxArrayDepth else {
                throw ModelFormatError(file: r.file, "GGUF metadata key '\(key)': arrays nested deeper than \(maxArrayDepth)")
            }
            let rawElem = try r.read(UInt32.self, "the element type of key '\(key)'")
            guard let elem = GGUFValueType(rawValue: rawElem) else {
                throw ModelFormatError(file: r.file, "GGUF metadata key '\(key)' is an array of unknown type \(rawElem)")
            }
            let n = try r.readCount("the length of key '\(key)'")
            guard n <= r.remaining / elem.minimumByteSize else {
                throw ModelFormatError(file: r.file, "GGUF metadata key '\(key)': array of \(n) \(elem) cannot fit in the \(r.remaining) bytes left")
            }
            var items = [GGUFValue]()
            items.reserveCapacity(n)
            for _ in 0..<n {
                items.append(try readValue(&r, type: elem, key: key, depth: depth + 1))
            }
            return .array(elem, items)
        }
    }

    private static func readTensorInfo(_ r: inout ByteReader, name: String, alignment: Int, file: String)
        throws -> (name: String, dims: [Int], type: GGMLType, offset: Int, bytes: Int)
    {
        let nDims = try r.read(UInt32.self, "the dimension count of tensor '\(name)'")
        guard nDims >= 1 && nDims <= UInt32(maxDimensions) else {
            throw ModelFormatError(file: file, "tensor '\(name)' has \(nDims) dimensions, expected 1 to \(maxDimensions)")
        }
        var dims = [Int]()
        var count = 1
        for d in 0..<Int(nDims) {
            let n = try r.readCount("dimension \(d) of tensor '\(name)'")
            guard n > 0 else { throw ModelFormatError(file: file, "tensor '\(name)' has dimension \(d) of size 0") }
            let (c, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw ModelFormatError(file: file, "tensor '\(name)': element count overflows") }
            count = c
            dims.append(n)
        }
        let rawType = try r.read(UInt32.self, "the type of tensor '\(name)'")
        guard let type = GGMLType(rawValue: rawType) else {
            throw ModelFormatError(file: file, "tensor '\(name)' has unknown GGML type \(rawType)")
        }
        let offset = try r.readCount("the offset of tensor '\(name)'")
        guard dims[0] % type.blockSize == 0 else {
            throw ModelFormatError(file: file, "tensor '\(name)': row length \(dims[0]) is not a multiple of the \(type) block size \(type.blockSize)")
        }
        guard offset % alignment == 0 else {
            throw ModelFormatError(file: file, "tensor '\(name)': offset \(offset) is not a multiple of the alignment \(alignment)")
        }
        let (bytes, overflow) = (count / type.blockSize).multipliedReportingOverflow(by: type.typeSize)
        guard !overflow else { throw ModelFormatError(file: file, "tensor '\(name)': byte size overflows") }
        return (name, dims, type, offset, bytes)
    }

    // MARK: - Tensors

    /// The info of the tensor called `name`, if the file has one.
    public func tensorInfo(named name: String) -> GGUFTensorInfo? {
        infoIndex[name].map { tensorInfos[$0] }
    }

    private func info(_ name: String) throws -> GGUFTensorInfo {
        guard let i = tensorInfo(named: name) else { throw ModelFormatError(file: path, "no tensor named '\(name)'") }
        return i
    }

    /// The encoded bytes of a tensor, inside the mapping (valid while this file is alive).
    public func withRawBytes<R>(of info: GGUFTensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = mapping.base! + dataOffset + info.offset
        return try withExtendedLifetime(mapping) { try body(UnsafeRawBufferPointer(start: start, count: info.byteCount)) }
    }

    /// The 2-D tensor `info` as a `QuantizedMatrix` over the mapped bytes (no copy; the matrix keeps
    /// the mapping alive), or nil when its type has no block kernels. A row that is not a whole number
    /// of blocks is an error naming the tensor.
    public func quantizedMatrix(_ info: GGUFTensorInfo) throws -> QuantizedMatrix? {
        guard let format = info.type.quantFormat, info.shape.count == 2 else { return nil }
        let src = UnsafeRawPointer(mapping.base! + dataOffset + info.offset)
        do {
            return try QuantizedMatrix(format: format, rows: info.shape[0], columns: info.shape[1], bytes: src, owner: mapping, name: info.name)
        } catch {
            throw ModelFormatError(file: path, "\(error)")
        }
    }

    /// The tensor called `name` as float32 with its row-major shape (GGML dimensions reversed).
    ///
    /// F32 data is borrowed from the mapping (copy-on-write, so in-place updates never reach the
    /// file); every other type is dequantized into new memory.
    public func tensor(named name: String) throws -> Tensor {
        let info = try info(name)
        guard info.type.canDequantize else {
            throw ModelFormatError(file: path, "tensor '\(name)' has type \(info.type), which Temper cannot dequantize")
        }
        let src = mapping.base! + dataOffset + info.offset
        if info.type == .f32 && Int(bitPattern: src) % MemoryLayout<Float>.alignment == 0 {
            let storage = TensorStorage(borrowing: src, byteCount: info.byteCount, owner: mapping)
            return Tensor(storage: storage, shape: info.shape)
        }
        let out = Tensor(uninitializedShape: info.shape)
        GGMLDequantizer.dequantize(info.type, from: UnsafeRawPointer(src), count: info.elementCount, into: out.floatPointer)
        return out
    }
}
