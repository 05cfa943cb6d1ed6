/// The four character classes the pre-tokenizer split patterns distinguish (`\p{L}`, `\p{N}`, `\s`
/// and everything else), read straight from UTF-8 bytes.
///
/// The split patterns are scanned by hand rather than with `Regex`, which is slow on Linux; this
/// type is the scanner's only contact with Unicode data, with an ASCII fast path.
enum ScalarClass: UInt8 {
    case letter, number, whitespace, other

    /// Class of every ASCII byte, so that the common case never touches the Unicode tables.
    private static let asciiTable: [ScalarClass] = (0..<128).map { byte in
        classify(Unicode.Scalar(UInt8(byte)))
    }

    /// `\p{L}` is general category L*, `\p{N}` is N*, `\s` is the White_Space property, as in the
    /// Oniguruma / PCRE Unicode semantics the reference tokenizers use.
    static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }

    /// Class of a scalar value given as a code point.
    @inline(__always)
    static func of(_ value: UInt32) -> ScalarClass {
        if value < 128 { return asciiTable[Int(value)] }
        return classify(Unicode.Scalar(value) ?? "\u{FFFD}")
    }
}

/// A decoded scalar at some byte offset of a UTF-8 buffer.
struct ScannedScalar {
    /// The code point.
    var value: UInt32
    /// How many bytes it occupies.
    var length: Int
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Decodes the scalar starting at byte `index`. Buffers come from Swift strings, so they are
    /// valid UTF-8; a malformed lead byte is still read as one byte so that scanning always advances.
    @inline(__always)
    func scalar(at index: Int) -> ScannedScalar {
        let b0 = UInt32(self[index])
        if b0 < 0x80 { return ScannedScalar(value: b0, length: 1) }
        let remaining = count - index
        if b0 >= 0xF0, remaining >= 4 {
            let v = (b0 & 0x07) << 18 | (UInt32(self[index + 1]) & 0x3F) << 12
                | (UInt32(self[index + 2]) & 0x3F) << 6 | (UInt32(self[index + 3]) & 0x3F)
            return ScannedScalar(value: v, length: 4)
        }
        if b0 >= 0xE0, remaining >= 3 {
            let v = (b0 & 0x0F) << 12 | (UInt32(self[index + 1]) & 0x3F) << 6 | (UInt32(self[index + 2]) & 0x3F)
            return ScannedScalar(value: v, length: 3)
        }
        if b0 >= 0xC0, remaining >= 2 {
            return ScannedScalar(value: (b0 & 0x1F) << 6 | (UInt32(self[index + 1]) & 0x3F), length: 2)
        }
        return ScannedScalar(value: 0xFFFD, length: 1)
    }
}
