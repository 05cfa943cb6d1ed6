import Foundation
import TemperTensor

/// A safetensors file, memory-mapped.
///
/// The format is an 8-byte little-endian header length, a JSON header mapping each tensor name to
/// its dtype, shape and byte range, then the raw data. Opening validates the header completely:
/// its length, every dtype, that shape × dtype size equals the byte span, that spans lie inside the
/// file and do not overlap. Errors name the file and the tensor.
public final class SafetensorsFile: @unchecked Sendable {
    /// Largest header accepted (the reference implementation's limit), so a corrupt length cannot
    /// make the JSON parser allocate gigabytes.
    public static let maxHeaderBytes = 100_000_000

    /// Path of the file.
    public let path: String
    /// The free-form `__metadata__` strings (e.g. `format: pt`).
    public let metadata: [String: String]
    /// Tensor infos in data order.
    public let tensorInfos: [SafetensorsTensorInfo]
    /// Byte offset of the data section in the file.
    public let dataOffset: Int

    private let mapping: MappedFile
    private let infoIndex: [String: Int]

    /// Opens and validates the safetensors file at `url`.
    public init(contentsOf url: URL) throws {
        mapping = try MappedFile(url: url)
        path = mapping.path
        var r = ByteReader(mapping.bytes, file: path)
        let headerLength = try r.readCount("the header length")
        guard headerLength <= r.remaining else {
            throw ModelFormatError(file: path, "header length \(headerLength) is larger than the \(r.remaining) bytes after it")
        }
        guard headerLength <= Self.maxHeaderBytes else {
            throw ModelFormatError(file: path, "header length \(headerLength) exceeds the \(Self.maxHeaderBytes)-byte limit")
        }
        let headerBytes = try r.readBytes(headerLength, "the header")
        dataOffset = 8 + headerLength
        let dataSize = mapping.byteCount - dataOffset

        let json = try JSONValue.parse(Data(headerBytes), source: path, what: "header")
        guard let header = json.objectValue else {
            throw ModelFormatError(file: path, "header is not a JSON object")
        }
        if let twice = JSONValue.firstDuplicateTopLevelKey(in: Data(headerBytes)) {
            throw ModelFormatError(file: path, "the header names '\(twice)' twice")
        }

        var meta = [String: String]()
        var infos = [SafetensorsTensorInfo]()
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value.objectValue else { throw ModelFormatError(file: path, "__metadata__ is not an object") }
                for (k, v) in m {
                    guard let s = v.stringValue else { throw ModelFormatError(file: path, "__metadata__ value '\(k)' is not a string") }
                    meta[k] = s
                }
                continue
            }
            infos.append(try Self.parseInfo(name: name, value, dataSize: dataSize, file: path))
        }
        infos.sort { ($0.dataRange.lowerBound, $0.dataRange.upperBound) < ($1.dataRange.lowerBound, $1.dataRange.upperBound) }
        for (a, b) in zip(infos, infos.dropFirst()) where a.dataRange.upperBound > b.dataRange.lowerBound {
            throw ModelFormatError(file: path, "tensors '\(a.name)' and '\(b.name)' overlap (bytes \(a.dataRange) and \(b.dataRange))")
        }
        // As the format requires, the tensors tile the data region exactly: a gap, or a header
        // length off by a byte, would otherwise shift every weight silently.
        var end = 0
        for t in infos {
            guard t.dataRange.lowerBound == end else {
                throw ModelFormatError(file: path, "bytes \(end)..<\(t.dataRange.lowerBound) of the data belong to no tensor (before '\(t.name)')")
            }
            end = t.dataRange.upperBound
        }
        guard end == dataSize else {
            throw ModelFormatError(file: path, "the tensors' data ends at byte \(end) but the file holds \(dataSize) data bytes after its \(headerLength)-byte header " +
                                   "(a wrong header length or trailing bytes)")
        }
        metadata = meta
        tensorInfos = infos
        var index = [String: Int](minimumCapacity: infos.count)
        for (i, t) in infos.enumerated() { index[t.name] = i }
        infoIndex = index
    }

    private static func parseInfo(name: String, _ value: JSONValue, dataSize: Int, file: String) throws -> SafetensorsTensorInfo {
        func fail(_ what: String) -> ModelFormatError { ModelFormatError(file: file, "tensor '\(name)': \(what)") }
        guard let entry = value.objectValue else { throw fail("header entry is not an object") }
        guard let dtypeName = entry["dtype"]?.stringValue else { throw fail("missing string 'dtype'") }
        guard let dtype = SafetensorsDType(rawValue: dtypeName) else { throw fail("unknown dtype '\(dtypeName)'") }
        guard let shapeValues = entry["shape"]?.arrayValue else { throw fail("missing array 'shape'") }
        var shape = [Int]()
        var count = 1
        for s in shapeValues {
            guard let n = s.intValue, n >= 0 else { throw fail("shape has an entry \(s.summary) that is not a non-negative integer") }
            let (c, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail("shape \(shapeValues.map(\.summary)) overflows") }
            count = c
            shape.append(n)
        }
        guard let offsets = entry["data_offsets"]?.arrayValue, offsets.count == 2,
              let begin = offsets[0].intValue, let end = offsets[1].intValue else {
            throw fail("'data_offsets' must be two integers")
        }
        guard begin >= 0 && begin <= end else { throw fail("data_offsets [\(begin), \(end)] are out of order") }
        guard end <= dataSize else {
            throw fail("data_offsets [\(begin), \(end)] run past the end of the data (\(dataSize) bytes)")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow && bytes == end - begin else {
            throw fail("shape \(shape) of \(dtype) needs \(overflow ? "too many" : String(bytes)) bytes but data_offsets span \(end - begin)")
        }
        return SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape, dataRange: begin..<end)
    }

    // MARK: - Tensors

    /// Tensor names in data order.
    public var tensorNames: [String] { tensorInfos.map(\.name) }

    /// The info of the tensor called `name`, if the file has one.
    public func tensorInfo(named name: String) -> SafetensorsTensorInfo? {
        infoIndex[name].map { tensorInfos[$0] }
    }

    private func info(_ name: String) throws -> SafetensorsTensorInfo {
        guard let i = tensorInfo(named: name) else { throw ModelFormatError(file: path, "no tensor named '\(name)'") }
        return i
    }

    /// Start of a tensor's bytes; only called for non-empty tensors, whose span lies inside the
    /// (therefore non-empty) mapping.
    private func address(_ info: SafetensorsTensorInfo) -> UnsafeMutableRawPointer {
        mapping.base! + dataOffset + info.dataRange.lowerBound
    }

    /// The tensor called `name` converted to float32 (F32, F16 and BF16 only).
    ///
    /// Aligned F32 data is borrowed from the copy-on-write mapping; F16 and BF16 are widened into
    /// new memory in parallel.
    public func tensor(named name: String) throws -> Tensor {
        let info = try info(name)
        let n = info.elementCount
        if n == 0 && info.dtype.tensorDType != nil { return Tensor(uninitializedShape: info.shape) }
        let src = address(info)
        switch info.dtype {
        case .F32:
            if Int(bitPattern: src) % MemoryLayout<Float>.alignment == 0 {
                return Tensor(storage: TensorStorage(borrowing: src, byteCount: info.dataRange.count, owner: mapping), shape: info.shape)
            }
            let out = Tensor(uninitializedShape: info.shape)
            UnsafeMutableRawPointer(out.floatPointer).copyMemory(from: src, byteCount: 4 * n)
            return out
        case .F16, .BF16:
            let out = Tensor(uninitializedShape: info.shape)
            let dst = out.floatPointer
            let f16 = info.dtype == .F16
            Parallel.forRanges(n, grain: 1 << 15) { r in
                let s = UnsafeRawPointer(src) + 2 * r.lowerBound
                if f16 { HalfConversion.f16ToFloat(s, dst + r.lowerBound, count: r.count) }
                else { HalfConversion.bf16ToFloat(s, dst + r.lowerBound, count: r.count) }
            }
            return out
        default:
            throw ModelFormatError(file: path, "tensor '\(name)' has dtype \(info.dtype); only F32, F16 and BF16 convert to float32")
        }
    }

    /// The tensor called `name` with its stored dtype (F32, F16, BF16 or I32), borrowing the mapping
    /// when the data is aligned for its element type and copied otherwise.
    public func rawTensor(named name: String) throws -> Tensor {
        let info = try info(name)
        guard let dtype = info.dtype.tensorDType else {
            throw ModelFormatError(file: path, "tensor '\(name)' has dtype \(info.dtype), which has no Temper tensor type")
        }
        if info.elementCount == 0 { return Tensor(uninitializedShape: info.shape, dtype: dtype) }
        let src = address(info)
        if Int(bitPattern: src) % dtype.byteSize == 0 {
            return Tensor(storage: TensorStorage(borrowing: src, byteCount: info.dataRange.count, owner: mapping), shape: info.shape, dtype: dtype)
        }
        let out = Tensor(uninitializedShape: info.shape, dtype: dtype)
        out.storage.base.copyMemory(from: src, byteCount: info.dataRange.count)
        return out
    }
}
