import Foundation
@testable import TemperModels

/// Writes small GGUF files for tests, including deliberately broken ones.
///
/// Values are encoded independently of the reader (little-endian, u64 lengths), and every piece of
/// the layout can be overridden: counts, a tensor's offset, the version, raw metadata bytes.
struct GGUFBuilder {
    struct TensorEntry {
        var name: String
        var dims: [Int]
        var typeRaw: UInt32
        var data: [UInt8]
        var offsetOverride: Int?
        var nDimsOverride: UInt32?
    }

    var version: UInt32 = 3
    var magic: [UInt8] = Array("GGUF".utf8)
    var alignment = 32
    /// Metadata as (key, type tag, encoded value bytes).
    var metadata: [(String, UInt32, [UInt8])] = []
    var tensors: [TensorEntry] = []
    var tensorCountOverride: UInt64?
    var metadataCountOverride: UInt64?

    mutating func add(_ key: String, _ value: GGUFValue) {
        metadata.append((key, value.type.rawValue, Self.encode(value)))
    }

    mutating func addTensor(_ name: String, dims: [Int], type: GGMLType, data: [UInt8]) {
        tensors.append(TensorEntry(name: name, dims: dims, typeRaw: type.rawValue, data: data))
    }

    /// Adds an F32 tensor; `shape` is row-major (outermost first), stored reversed as GGUF does.
    mutating func addF32(_ name: String, shape: [Int], _ values: [Float]) {
        var bytes = [UInt8]()
        for v in values { Self.append(v.bitPattern, to: &bytes) }
        addTensor(name, dims: shape.reversed(), type: .f32, data: bytes)
    }

    static func append<T: FixedWidthInteger>(_ v: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    static func encodeString(_ s: String) -> [UInt8] {
        var b = [UInt8]()
        append(UInt64(s.utf8.count), to: &b)
        b.append(contentsOf: s.utf8)
        return b
    }

    static func encode(_ v: GGUFValue) -> [UInt8] {
        var b = [UInt8]()
        switch v {
        case .uint8(let x): append(x, to: &b)
        case .int8(let x): append(x, to: &b)
        case .uint16(let x): append(x, to: &b)
        case .int16(let x): append(x, to: &b)
        case .uint32(let x): append(x, to: &b)
        case .int32(let x): append(x, to: &b)
        case .uint64(let x): append(x, to: &b)
        case .int64(let x): append(x, to: &b)
        case .float32(let x): append(x.bitPattern, to: &b)
        case .float64(let x): append(x.bitPattern, to: &b)
        case .bool(let x): b.append(x ? 1 : 0)
        case .string(let s): b = encodeString(s)
        case .array(let t, let items):
            append(t.rawValue, to: &b)
            append(UInt64(items.count), to: &b)
            for i in items { b.append(contentsOf: encode(i)) }
        }
        return b
    }

    /// The file bytes and the size of the header (everything before the alignment padding).
    func build() -> (bytes: [UInt8], headerEnd: Int, dataOffset: Int) {
        var b = magic
        Self.append(version, to: &b)
        Self.append(tensorCountOverride ?? UInt64(tensors.count), to: &b)
        Self.append(metadataCountOverride ?? UInt64(metadata.count), to: &b)
        for (k, t, v) in metadata {
            b.append(contentsOf: Self.encodeString(k))
            Self.append(t, to: &b)
            b.append(contentsOf: v)
        }
        var offsets = [Int]()
        var cursor = 0
        for t in tensors {
            offsets.append(t.offsetOverride ?? cursor)
            cursor = (cursor + t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, off) in zip(tensors, offsets) {
            b.append(contentsOf: Self.encodeString(t.name))
            Self.append(t.nDimsOverride ?? UInt32(t.dims.count), to: &b)
            for d in t.dims { Self.append(UInt64(d), to: &b) }
            Self.append(t.typeRaw, to: &b)
            Self.append(UInt64(off), to: &b)
        }
        let headerEnd = b.count
        let dataOffset = (headerEnd + alignment - 1) / alignment * alignment
        b.append(contentsOf: [UInt8](repeating: 0, count: dataOffset - headerEnd))
        var data = [UInt8]()
        for (t, off) in zip(tensors, offsets) where t.offsetOverride == nil {
            data.append(contentsOf: [UInt8](repeating: 0, count: off - data.count))
            data.append(contentsOf: t.data)
        }
        b.append(contentsOf: data)
        return (b, headerEnd, dataOffset)
    }

    /// Writes the file into a fresh temporary directory and returns its URL.
    func write(name: String = "model.gguf") throws -> URL {
        let url = TestFiles.temporaryDirectory().appendingPathComponent(name)
        try Data(build().bytes).write(to: url)
        return url
    }
}

/// Temporary files for tests, and paths of the shared fixtures.
enum TestFiles {
    static func temporaryDirectory() -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("temper-formats-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// The repository root (the folder holding TemperKit/), found from this source file's path.
    static var repositoryRoot: URL {
        var u = URL(fileURLWithPath: #filePath)
        for _ in 0..<5 { u.deleteLastPathComponent() }   // file name, Support, TemperModelsTests, Tests, TemperKit
        return u
    }

    /// The reference fixtures kept in the repository (`fixtures/`, described in its README).
    static var fixtures: URL {
        repositoryRoot.appendingPathComponent("fixtures")
    }
}
