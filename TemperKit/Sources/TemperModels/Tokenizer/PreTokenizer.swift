/// How text is cut into words before byte-pair merging: the `pre_tokenizer` of `tokenizer.json`
/// (or the `tokenizer.ggml.pre` name of a GGUF file), restricted to the configurations that
/// byte-level BPE tokenizers use. Merges never cross a word boundary.
public indirect enum PreTokenizer: Sendable, Equatable {
    /// `ByteLevel`: optionally prepend a space to each piece that lacks one, and optionally split
    /// with the GPT-2 pattern. The byte → character mapping itself happens in the BPE model.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// `Split` with behaviour `Isolated`: every match of a known pattern becomes its own piece.
    case split(SplitPattern)
    /// `Digits`: numeric characters are isolated, one per piece when `individual`, else in runs.
    case digits(individual: Bool)
    /// `Sequence`: each step splits the pieces the previous one produced.
    case sequence([PreTokenizer])

    /// Whether a `ByteLevel` step is present, which a byte-level BPE vocabulary relies on.
    var containsByteLevel: Bool {
        switch self {
        case .byteLevel: return true
        case .split, .digits: return false
        case let .sequence(steps): return steps.contains { $0.containsByteLevel }
        }
    }

    /// Splits `bytes` into pieces (byte ranges of the possibly rewritten buffer).
    func pieces(of bytes: [UInt8]) -> PreTokenizedText {
        var text = PreTokenizedText(bytes: bytes, ranges: bytes.isEmpty ? [] : [0..<bytes.count])
        apply(to: &text)
        return text
    }

    private func apply(to text: inout PreTokenizedText) {
        switch self {
        case let .sequence(steps):
            for step in steps { step.apply(to: &text) }
        case let .split(pattern):
            text.refine { buffer, range, out in pattern.split(buffer, range, into: &out) }
        case let .digits(individual):
            text.refine { buffer, range, out in
                PreTokenizer.splitDigits(buffer, range, individual: individual, into: &out)
            }
        case let .byteLevel(addPrefixSpace, useRegex):
            if addPrefixSpace { text.prependSpaceToEachPiece() }
            if useRegex {
                text.refine { buffer, range, out in SplitPattern.gpt2.split(buffer, range, into: &out) }
            }
        }
    }

    /// Isolates numeric characters (general category N*, like Rust's `char::is_numeric`).
    private static func splitDigits(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, individual: Bool,
                                    into pieces: inout [Range<Int>]) {
        var start = range.lowerBound
        var i = range.lowerBound
        var runIsNumber = false
        while i < range.upperBound {
            let s = text.scalar(at: i)
            let isNumber = ScalarClass.of(s.value) == .number
            if i > start && (isNumber != runIsNumber || (isNumber && individual)) {
                pieces.append(start..<i)
                start = i
            }
            runIsNumber = isNumber
            i += s.length
        }
        if start < range.upperBound { pieces.append(start..<range.upperBound) }
    }
}

/// Text during pre-tokenization: a byte buffer and the pieces cut from it so far.
struct PreTokenizedText {
    /// UTF-8 bytes; rewritten only when a step inserts prefix spaces.
    var bytes: [UInt8]
    /// Non-empty, ordered, non-overlapping pieces of `bytes`.
    var ranges: [Range<Int>]

    /// Replaces every piece by the sub-pieces `split` appends for it.
    mutating func refine(_ split: (UnsafeBufferPointer<UInt8>, Range<Int>, inout [Range<Int>]) -> Void) {
        var refined = [Range<Int>]()
        refined.reserveCapacity(ranges.count * 2)
        let current = ranges
        bytes.withUnsafeBufferPointer { buffer in
            for range in current { split(buffer, range, &refined) }
        }
        ranges = refined
    }

    /// `add_prefix_space`: a piece not starting with a space gets one, as the reference tokenizers do.
    mutating func prependSpaceToEachPiece() {
        var rewritten = [UInt8]()
        rewritten.reserveCapacity(bytes.count + ranges.count)
        var newRanges = [Range<Int>]()
        newRanges.reserveCapacity(ranges.count)
        for range in ranges {
            let start = rewritten.count
            if bytes[range.lowerBound] != 0x20 { rewritten.append(0x20) }
            rewritten.append(contentsOf: bytes[range])
            newRanges.append(start..<rewritten.count)
        }
        bytes = rewritten
        ranges = newRanges
    }
}
