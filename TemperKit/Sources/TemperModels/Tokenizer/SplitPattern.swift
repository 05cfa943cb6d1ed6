/// The regular expressions byte-level tokenizers split text with, implemented as hand-written
/// scanners that give exactly the matches the regex engines of the reference tokenizers give.
///
/// Every pattern here covers every character (its last alternatives match any whitespace, letter,
/// number or other run), so the matches tile the text and splitting never drops bytes.
public enum SplitPattern: String, Sendable, CaseIterable {
    /// GPT-2: case-sensitive contractions, ` ?` + letter / number / other runs, whitespace runs.
    case gpt2
    /// Llama 3: case-insensitive contractions, one leading non-letter glued to letters, numbers in
    /// groups of 1–3 digits, newlines kept together.
    case llama3
    /// Qwen2: as Llama 3 but every digit is its own piece.
    case qwen2

    /// The regex source as it appears in `tokenizer.json` (`Split.pattern.Regex`), used to recognise
    /// a pattern; any other regex is rejected rather than approximated.
    public var regexSource: String {
        switch self {
        case .gpt2:
            return #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        case .llama3:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        case .qwen2:
            return #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        }
    }

    /// The pattern whose regex source is `source`, if any.
    public init?(regexSource source: String) {
        guard let match = SplitPattern.allCases.first(where: { $0.regexSource == source }) else { return nil }
        self = match
    }

    /// Appends to `pieces` the byte ranges of the matches inside `range` of `text`.
    func split(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        let scanner = PatternScanner(text: text, end: range.upperBound)
        var start = range.lowerBound
        while start < range.upperBound {
            let end: Int
            switch self {
            case .gpt2: end = scanner.gpt2Match(at: start)
            case .llama3: end = scanner.llamaMatch(at: start, maxDigits: 3)
            case .qwen2: end = scanner.llamaMatch(at: start, maxDigits: 1)
            }
            pieces.append(start..<end)
            start = end
        }
    }
}

/// Finds the end of the regex match that starts at a given byte offset. Each method mirrors one
/// pattern's alternatives in order, which is how a backtracking engine picks among them.
private struct PatternScanner {
    let text: UnsafeBufferPointer<UInt8>
    let end: Int

    init(text: UnsafeBufferPointer<UInt8>, end: Int) {
        self.text = text
        self.end = end
    }

    @inline(__always) private func scalar(_ i: Int) -> ScannedScalar { text.scalar(at: i) }
    @inline(__always) private func cls(_ i: Int) -> ScalarClass { ScalarClass.of(text.scalar(at: i).value) }

    /// End of the run of class `c` starting at `i`, at most `limit` scalars long.
    private func run(_ c: ScalarClass, from i: Int, limit: Int = .max) -> Int {
        var j = i
        var taken = 0
        while j < end, taken < limit {
            let s = scalar(j)
            guard ScalarClass.of(s.value) == c else { break }
            j += s.length
            taken += 1
        }
        return j
    }

    /// End of a contraction suffix (`s t re ve m ll d`) right after an apostrophe at `i`, or nil.
    /// Case-insensitive matching also folds U+017F LATIN SMALL LETTER LONG S to `s`, as Unicode
    /// case-insensitive regex engines do.
    private func contraction(after i: Int, caseInsensitive: Bool) -> Int? {
        func letter(_ j: Int) -> UInt32? {
            guard j < end else { return nil }
            let s = scalar(j)
            guard caseInsensitive else { return s.value }
            if s.value == 0x17F { return UInt32(UInt8(ascii: "s")) }
            if s.value >= 65 && s.value <= 90 { return s.value | 0x20 }
            return s.value
        }
        let j = i + 1
        guard let first = letter(j) else { return nil }
        let firstLength = scalar(j).length
        switch first {
        case UInt32(UInt8(ascii: "s")), UInt32(UInt8(ascii: "t")), UInt32(UInt8(ascii: "m")), UInt32(UInt8(ascii: "d")):
            return j + firstLength
        case UInt32(UInt8(ascii: "r")), UInt32(UInt8(ascii: "v")):
            if letter(j + 1) == UInt32(UInt8(ascii: "e")) { return j + 2 }
        case UInt32(UInt8(ascii: "l")):
            if letter(j + 1) == UInt32(UInt8(ascii: "l")) { return j + 2 }
        default:
            break
        }
        return nil
    }

    /// `\s+(?!\S)|\s+` for the whitespace run starting at `i`: the run minus its last character when
    /// a non-space follows and the run is longer than one character (so that character can lead the
    /// next word), otherwise the whole run.
    private func whitespaceRunMatch(at i: Int) -> Int {
        var j = i
        var lastStart = i
        while j < end {
            let s = scalar(j)
            guard ScalarClass.of(s.value) == .whitespace else { break }
            lastStart = j
            j += s.length
        }
        if j < end && lastStart > i { return lastStart }
        return j
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    func gpt2Match(at i: Int) -> Int {
        let s0 = scalar(i)
        if s0.value == 0x27, let e = contraction(after: i, caseInsensitive: false) { return e }
        var c0 = ScalarClass.of(s0.value)
        var start = i
        if s0.value == 0x20, i + 1 < end {
            let c1 = cls(i + 1)
            if c1 != .whitespace {
                start = i + 1
                c0 = c1
            }
        }
        if c0 == .whitespace { return whitespaceRunMatch(at: i) }
        return run(c0, from: start)
    }

    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,maxDigits}|
    ///  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    func llamaMatch(at i: Int, maxDigits: Int) -> Int {
        let s0 = scalar(i)
        if s0.value == 0x27, let e = contraction(after: i, caseInsensitive: true) { return e }
        let c0 = ScalarClass.of(s0.value)
        let next = i + s0.length
        switch c0 {
        case .letter:
            return run(.letter, from: i)
        case .number:
            return run(.number, from: i, limit: maxDigits)
        case .whitespace, .other:
            let isLineBreak = s0.value == 0x0A || s0.value == 0x0D
            if !isLineBreak, next < end, cls(next) == .letter { return run(.letter, from: next) }
        }
        if c0 == .other || (s0.value == 0x20 && next < end && cls(next) == .other) {
            var j = run(.other, from: c0 == .other ? i : next)
            while j < end, text[j] == 0x0A || text[j] == 0x0D { j += 1 }
            return j
        }
        // c0 is whitespace here. `\s*[\r\n]+` ends just after the run's last line break.
        var j = i
        var afterLastBreak = -1
        while j < end {
            let s = scalar(j)
            guard ScalarClass.of(s.value) == .whitespace else { break }
            j += s.length
            if s.value == 0x0A || s.value == 0x0D { afterLastBreak = j }
        }
        if afterLastBreak > 0 { return afterLastBreak }
        return whitespaceRunMatch(at: i)
    }
}
