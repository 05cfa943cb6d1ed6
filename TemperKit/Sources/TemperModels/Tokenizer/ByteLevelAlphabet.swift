/// The reversible byte ↔ printable-character mapping of byte-level BPE (GPT-2 and its descendants).
///
/// Byte-level vocabularies store every token as a string of printable characters, one character per
/// byte, so that whitespace and control bytes never appear raw in `vocab`/`merges` files. Printable
/// Latin-1 bytes map to themselves; the remaining 68 bytes map, in byte order, to U+0100 onwards
/// (so the space byte becomes "Ġ" and the newline byte "Ċ").
public enum ByteLevelAlphabet {
    /// The character (as a Unicode scalar) that stands for each byte value.
    public static let scalarForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintedAsItself(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt32(byte))!
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Inverse of `scalarForByte`: the byte a byte-level character stands for.
    public static let byteForScalar: [UInt32: UInt8] = {
        var map = [UInt32: UInt8]()
        for (byte, scalar) in scalarForByte.enumerated() { map[scalar.value] = UInt8(byte) }
        return map
    }()

    /// Printable ASCII and printable Latin-1 (excluding the soft hyphen) keep their own code point.
    private static func isPrintedAsItself(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The byte-level spelling of raw bytes (what a vocabulary entry for them looks like).
    public static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var scalars = String.UnicodeScalarView()
        for byte in bytes { scalars.append(scalarForByte[Int(byte)]) }
        return String(scalars)
    }

    /// The raw bytes a byte-level token string spells, or nil when it contains a character outside
    /// the alphabet (such tokens, e.g. added tokens written verbatim, stand for their own UTF-8).
    public static func decode(_ token: String) -> [UInt8]? {
        var bytes = [UInt8]()
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byteForScalar[scalar.value] else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
