/// Token-aware mutations of line-oriented text (YAML recipes, component specs, JSONL files): a
/// number becomes an edge value, a word becomes a field name the target knows, a token the syntax
/// treats specially is inserted, a line is duplicated, dropped or swapped.
struct TextMutator {
    /// Words the target gives meaning to (field names, component names, keys).
    var dictionary: [String]
    /// Tokens the syntax treats specially (YAML anchors and tags, spec separators).
    var syntaxTokens: [String]

    /// Numbers on the edges, spelled the ways YAML, Swift and JSON read them.
    static let interestingNumbers = [
        "0", "-1", "1", "2", "0.0", "-0", "2147483647", "2147483648", "4294967296", "1099511627776",
        "9223372036854775807", "9223372036854775808", "18446744073709551616", "100000000", "1e9", "1e18",
        "1e308", "1e999", "-1e999", "1e-999", "nan", "NaN", ".nan", "inf", ".inf", "-.inf", "0x7fffffff",
        "1_000", "0o17", "3.5", "1.0e-45",
    ]

    /// One mutation of `bytes`, read as UTF-8 text (invalid bytes survive as replacement characters
    /// only in the tokens touched; the rest is kept as bytes).
    func mutate(_ bytes: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        var lines = split(bytes)
        switch rng.below(9) {
        case 0, 1, 2:
            let tokens = tokenRanges(bytes).filter { r in bytes[r].allSatisfy { isDigitLike($0) } }
            guard let r = tokens.isEmpty ? nil : rng.pick(tokens) else { return insert(bytes, rng: &rng) }
            return Array(bytes[..<r.lowerBound]) + Array(rng.pick(Self.interestingNumbers).utf8) + Array(bytes[r.upperBound...])
        case 3, 4:
            let words = tokenRanges(bytes)
            guard let r = words.isEmpty ? nil : rng.pick(words), !dictionary.isEmpty else { return insert(bytes, rng: &rng) }
            return Array(bytes[..<r.lowerBound]) + Array(rng.pick(dictionary).utf8) + Array(bytes[r.upperBound...])
        case 5, 6:
            return insert(bytes, rng: &rng)
        case 7 where !lines.isEmpty:
            let i = rng.below(lines.count)
            switch rng.below(3) {
            case 0: lines.insert(lines[i], at: rng.below(lines.count + 1))
            case 1: lines.remove(at: i)
            default: lines.swapAt(i, rng.below(lines.count))
            }
            return Array(lines.joined(separator: [UInt8(ascii: "\n")]))
        default:
            var b = bytes
            let repeated = rng.pick(syntaxTokens.isEmpty ? ["x"] : syntaxTokens)
            let n = rng.pick([2, 50, 3_000])
            b.insert(contentsOf: Array(String(repeating: repeated, count: n).utf8), at: rng.below(b.count + 1))
            return b
        }
    }

    /// Inserts a dictionary word, a syntax token or an edge number at a random place.
    private func insert(_ bytes: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        var b = bytes
        let pool = dictionary + syntaxTokens + Self.interestingNumbers
        b.insert(contentsOf: Array(rng.pick(pool).utf8), at: rng.below(b.count + 1))
        return b
    }

    private func split(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    }

    private func isWordByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E
    }

    private func isDigitLike(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || c == 0x2E || c == 0x2D || c == 0x65 }

    /// Ranges of maximal runs of word bytes (letters, digits, `_`, `-`, `.`).
    private func tokenRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var i = 0
        while i < bytes.count {
            guard isWordByte(bytes[i]) else { i += 1; continue }
            let start = i
            while i < bytes.count, isWordByte(bytes[i]) { i += 1 }
            out.append(start..<i)
        }
        return out
    }
}
