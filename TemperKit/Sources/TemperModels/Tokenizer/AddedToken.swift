/// A token matched verbatim in the input before pre-tokenization (`added_tokens` of
/// `tokenizer.json`, or CONTROL / USER_DEFINED tokens of a GGUF vocabulary), e.g. `<|im_start|>`.
public struct AddedToken: Sendable, Equatable {
    /// The literal text that stands for the token.
    public var content: String
    /// Its id.
    public var id: Int32
    /// Special (control) tokens are matched only when special-token parsing is on, and are dropped
    /// by `decode(skipSpecialTokens: true)`.
    public var special: Bool
    /// Whitespace to the left of a match is absorbed into it.
    public var lstrip: Bool
    /// Whitespace to the right of a match is absorbed into it.
    public var rstrip: Bool
    /// Matched only when not inside a word (no letter, number or `_` touches either end).
    public var singleWord: Bool

    /// Creates an added token; the flags default to those of ordinary special tokens.
    public init(content: String, id: Int32, special: Bool, lstrip: Bool = false, rstrip: Bool = false,
                singleWord: Bool = false) {
        self.content = content
        self.id = id
        self.special = special
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.singleWord = singleWord
    }
}

/// Finds added tokens in UTF-8 text: leftmost match first and, among matches at the same place,
/// the longest (so `<|im_start|>` wins over a shorter token that is its prefix).
struct AddedTokenMatcher: Sendable {
    private struct Candidate: Sendable {
        var bytes: [UInt8]
        var token: AddedToken
    }

    /// Candidates by first byte, longest first.
    private let candidatesByFirstByte: [[Candidate]]

    init(tokens: [AddedToken]) {
        var table = [[Candidate]](repeating: [], count: 256)
        for token in tokens where !token.content.isEmpty {
            let bytes = Array(token.content.utf8)
            table[Int(bytes[0])].append(Candidate(bytes: bytes, token: token))
        }
        candidatesByFirstByte = table.map { $0.sorted { $0.bytes.count > $1.bytes.count } }
    }

    /// A stretch of input: plain text to pre-tokenize, or one added token.
    enum Segment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// Cuts `text` into plain-text stretches and added tokens; special tokens are only looked for
    /// when `includeSpecial`, and never inside `protectedRanges` (sorted byte ranges of message
    /// content, which must not be able to forge control tokens).
    func segments(of text: [UInt8], includeSpecial: Bool, protectedRanges: [Range<Int>] = []) -> [Segment] {
        var segments = [Segment]()
        var textStart = 0
        var i = 0
        var nextProtected = 0
        let n = text.count
        while i < n {
            while nextProtected < protectedRanges.count && protectedRanges[nextProtected].upperBound <= i { nextProtected += 1 }
            let protectedAt = nextProtected < protectedRanges.count ? protectedRanges[nextProtected] : n..<n
            guard let match = longestMatch(in: text, at: i, includeSpecial: includeSpecial,
                                           specialLimit: protectedAt.lowerBound <= i ? i : protectedAt.lowerBound) else {
                i += 1
                continue
            }
            var start = i
            var end = i + match.bytes.count
            if match.token.lstrip {
                while start > textStart, Self.isWhitespaceByteBefore(text, start) { start -= 1 }
            }
            if match.token.rstrip {
                while end < n, Self.isASCIIWhitespace(text[end]) { end += 1 }
            }
            if start > textStart { segments.append(.text(textStart..<start)) }
            segments.append(.token(match.token.id))
            textStart = end
            i = end
        }
        if textStart < n { segments.append(.text(textStart..<n)) }
        return segments
    }

    /// The longest token matching at `i`; a special token must end by `specialLimit`.
    private func longestMatch(in text: [UInt8], at i: Int, includeSpecial: Bool, specialLimit: Int) -> Candidate? {
        let candidates = candidatesByFirstByte[Int(text[i])]
        if candidates.isEmpty { return nil }
        for candidate in candidates where !candidate.token.special || (includeSpecial && i + candidate.bytes.count <= specialLimit) {
            let length = candidate.bytes.count
            guard i + length <= text.count else { continue }
            var equal = true
            for k in 1..<length where text[i + k] != candidate.bytes[k] {
                equal = false
                break
            }
            guard equal else { continue }
            if candidate.token.singleWord && !Self.isWordBoundary(text, i, i + length) { continue }
            return candidate
        }
        return nil
    }

    private static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func isWhitespaceByteBefore(_ text: [UInt8], _ index: Int) -> Bool {
        isASCIIWhitespace(text[index - 1])
    }

    /// Whether the characters just outside `start..<end` are not word characters.
    private static func isWordBoundary(_ text: [UInt8], _ start: Int, _ end: Int) -> Bool {
        text.withUnsafeBufferPointer { buffer in
            if end < buffer.count, isWordScalar(buffer.scalar(at: end).value) { return false }
            if start > 0 {
                var lead = start - 1
                while lead > 0 && buffer[lead] & 0xC0 == 0x80 { lead -= 1 }
                if isWordScalar(buffer.scalar(at: lead).value) { return false }
            }
            return true
        }
    }

    private static func isWordScalar(_ value: UInt32) -> Bool {
        value == 0x5F || ScalarClass.of(value) == .letter || ScalarClass.of(value) == .number
    }
}
