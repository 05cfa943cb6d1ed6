import Foundation

/// A cursor over untrusted little-endian bytes in which every read is bounds-checked.
///
/// File headers come from disk and may be truncated or corrupt; each read checks the remaining
/// length first and throws an error naming `context` (the key or tensor being read) instead of
/// reading past the end.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    private(set) var position: Int

    init(_ bytes: UnsafeRawBufferPointer, file: String, position: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    /// Throws unless `count` more bytes are available.
    func require(_ count: Int, _ context: @autoclosure () -> String) throws {
        if count < 0 || count > remaining {
            throw ModelFormatError(file: file, "truncated at byte \(position) reading \(context()): needs \(count) bytes, \(remaining) left")
        }
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ context: @autoclosure () -> String) throws -> T {
        try require(MemoryLayout<T>.size, context())
        let v = bytes.loadUnaligned(fromByteOffset: position, as: T.self)
        position += MemoryLayout<T>.size
        return T(littleEndian: v)
    }

    /// Reads a u64 that must fit in `Int` (a count, size or offset).
    mutating func readCount(_ context: @autoclosure () -> String) throws -> Int {
        let v = try read(UInt64.self, context())
        guard v <= UInt64(Int.max) else {
            throw ModelFormatError(file: file, "\(context()): value \(v) is out of range")
        }
        return Int(v)
    }

    mutating func readFloat(_ context: @autoclosure () -> String) throws -> Float {
        Float(bitPattern: try read(UInt32.self, context()))
    }

    mutating func readDouble(_ context: @autoclosure () -> String) throws -> Double {
        Double(bitPattern: try read(UInt64.self, context()))
    }

    /// Reads `count` raw bytes.
    mutating func readBytes(_ count: Int, _ context: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        try require(count, context())
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
        position += count
        return slice
    }

    /// Reads a u64 length followed by that many bytes of UTF-8.
    mutating func readString(_ context: @autoclosure () -> String) throws -> String {
        let n = try readCount("length of \(context())")
        let raw = try readBytes(n, context())
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw ModelFormatError(file: file, "\(context()) is not valid UTF-8")
        }
        return s
    }

    /// Moves to `offset`, which must lie within the bytes.
    mutating func seek(to offset: Int, _ context: @autoclosure () -> String) throws {
        guard offset >= 0 && offset <= bytes.count else {
            throw ModelFormatError(file: file, "\(context()): offset \(offset) is past the end of the file (\(bytes.count) bytes)")
        }
        position = offset
    }
}
