import TemperCore

/// Writes a little-endian GGUF v3 file in memory: the seed the GGUF target mutates.
///
/// Temper reads GGUF but has no reason to write it (`temper merge` writes safetensors), so the
/// fuzzer carries this small writer for its seed.
struct GGUFSeedWriter {
    /// The stored element types the seed uses.
    enum TensorType: UInt32 { case f32 = 0, f16 = 1, q8_0 = 8 }

    private var kv: [UInt8] = []
    private var kvCount = 0
    private var infos: [UInt8] = []
    private var data: [UInt8] = []
    private var tensorCount = 0
    private static let alignment = 32

    /// Adds a metadata entry.
    mutating func metadata(_ key: String, _ value: GGUFValue) {
        Self.string(key, into: &kv)
        Self.u32(value.type.rawValue, into: &kv)
        Self.value(value, into: &kv)
        kvCount += 1
    }

    /// Adds a tensor of Hugging Face `shape` (GGUF stores the dimensions innermost first).
    mutating func tensor(_ name: String, shape: [Int], values: [Float], type: TensorType) {
        Self.string(name, into: &infos)
        Self.u32(UInt32(shape.count), into: &infos)
        for d in shape.reversed() { Self.u64(UInt64(d), into: &infos) }
        Self.u32(type.rawValue, into: &infos)
        while data.count % Self.alignment != 0 { data.append(0) }
        Self.u64(UInt64(data.count), into: &infos)
        switch type {
        case .f32: for v in values { Self.u32(v.bitPattern, into: &data) }
        case .f16: for v in values { Self.u16(Float16(v).bitPattern, into: &data) }
        case .q8_0:
            // Blocks of 32: a float16 scale, then 32 signed bytes with x ≈ scale · q.
            for start in stride(from: 0, to: values.count, by: 32) {
                let block = values[start..<min(start + 32, values.count)]
                let scale = (block.map { abs($0) }.max() ?? 0) / 127
                Self.u16(Float16(scale).bitPattern, into: &data)
                for v in block { data.append(UInt8(bitPattern: Int8(scale == 0 ? 0 : (v / scale).rounded()))) }
            }
        }
        tensorCount += 1
    }

    /// The file, and where its header (everything before the aligned data section) ends.
    func bytes() -> (bytes: [UInt8], headerEnd: Int) {
        var out: [UInt8] = []
        Self.u32(0x4655_4747, into: &out)
        Self.u32(3, into: &out)
        Self.u64(UInt64(tensorCount), into: &out)
        Self.u64(UInt64(kvCount), into: &out)
        out += kv + infos
        let headerEnd = out.count
        while out.count % Self.alignment != 0 { out.append(0) }
        return (out + data, headerEnd)
    }

    private static func value(_ v: GGUFValue, into out: inout [UInt8]) {
        switch v {
        case .uint8(let x): out.append(x)
        case .int8(let x): out.append(UInt8(bitPattern: x))
        case .uint16(let x): u16(x, into: &out)
        case .int16(let x): u16(UInt16(bitPattern: x), into: &out)
        case .uint32(let x): u32(x, into: &out)
        case .int32(let x): u32(UInt32(bitPattern: x), into: &out)
        case .uint64(let x): u64(x, into: &out)
        case .int64(let x): u64(UInt64(bitPattern: x), into: &out)
        case .float32(let x): u32(x.bitPattern, into: &out)
        case .float64(let x): u64(x.bitPattern, into: &out)
        case .bool(let x): out.append(x ? 1 : 0)
        case .string(let s): string(s, into: &out)
        case .array(let t, let items):
            u32(t.rawValue, into: &out)
            u64(UInt64(items.count), into: &out)
            for i in items { value(i, into: &out) }
        }
    }

    private static func string(_ s: String, into out: inout [UInt8]) {
        u64(UInt64(s.utf8.count), into: &out)
        out += Array(s.utf8)
    }
    private static func u16(_ x: UInt16, into out: inout [UInt8]) { for k in 0..<2 { out.append(UInt8(truncatingIfNeeded: x >> (8 * k))) } }
    private static func u32(_ x: UInt32, into out: inout [UInt8]) { for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: x >> (8 * k))) } }
    private static func u64(_ x: UInt64, into out: inout [UInt8]) { for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: x >> (8 * k))) } }
}
