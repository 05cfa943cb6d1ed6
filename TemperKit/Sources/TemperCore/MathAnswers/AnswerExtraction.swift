/// Where a completion's final answer is looked for (the `extract` setting of `math-equiv`).
public enum MathExtractionMode: String, CaseIterable, Sendable {
    /// `<answer>` tag, else the last `\boxed{}`, else `#### x`, else "the answer is x", else (unless
    /// the format is required) the last math span or number.
    case auto
    /// The last `\boxed{...}` / `\fbox{...}` (MATH).
    case boxed
    /// The text after the last `####` (GSM8K).
    case hash
    /// The text after the last "answer is" / "answer:".
    case answerIs = "answer-is"
    /// The last number in the text.
    case lastNumber = "last-number"
    /// The content of the last `<answer>...</answer>` (R1 format).
    case answerTag = "answer-tag"
}

/// Finds the final answer in a completion, always the *last* one in its place: answers a model
/// mentions while reasoning and then revises do not count.
///
/// A result that is present but empty (`\boxed{}`) means the model answered nothing; nil means no
/// answer was found. Several boxes in a row (`\boxed{-2} and \boxed{1}`) form one list answer, so
/// a completion that boxes several different candidates matches only a reference listing them all.
struct AnswerExtractor {
    var mode: MathExtractionMode
    /// Only accept the answer in the place `mode` names (for `auto`: a tag, box, `####` or
    /// "answer is"); never fall back to the last number.
    var requireFormat: Bool

    func extract(_ t: [UInt8]) -> [UInt8]? {
        let found: [UInt8]?
        switch mode {
        case .auto: found = Self.marked(t)
        case .boxed: found = Self.boxed(t)
        case .hash: found = Self.hash(t)
        case .answerIs: found = Self.answerIs(t)
        case .lastNumber: found = Self.lastNumber(t).map { Self.numberText(t[$0]) }
        case .answerTag: found = Self.answerTag(t)
        }
        if let found { return found }
        if requireFormat { return nil }
        return Self.marked(t) ?? Self.looseFinal(t)
    }

    /// The reference answer in a dataset cell: the boxed part of a MATH solution, the part after
    /// `####` of a GSM8K solution, "the final answer is x" of a Minerva-style one, or else the
    /// whole cell.
    static func reference(_ t: [UInt8]) -> [UInt8] {
        if let m = marked(t), !m.isEmpty { return m }
        return t
    }

    /// The explicit places, in order of precedence; a "final answer is x" written after the last
    /// box (Minerva's "Final Answer: The final answer is x. I hope it is correct.") overrides a
    /// box used on the way.
    static func marked(_ t: [UInt8]) -> [UInt8]? {
        answerTag(t) ?? finalAnswerAfterBox(t) ?? boxed(t) ?? hash(t) ?? answerIs(t)
    }

    /// "final answer is" (or "final answer:") after the last box, directly followed by math or a
    /// number, as math-verify's first rule requires (`The final answer is \"$12$ and $13$\"` keeps
    /// the box).
    static func finalAnswerAfterBox(_ t: [UInt8]) -> [UInt8]? {
        guard let box = lastBox(in: t, before: t.count) else { return nil }
        let phrase = Array("final answer".utf8)
        var k = t.count - phrase.count
        while k >= box.end {
            defer { k -= 1 }
            guard matchesLowercased(t, at: k, phrase) else { continue }
            var j = k + phrase.count
            while j < t.count, t[j] == UInt8(ascii: " ") || t[j] == UInt8(ascii: ":") { j += 1 }
            if matchesLowercased(t, at: j, Array("is".utf8)) { j += 2 }
            while j < t.count, t[j] == UInt8(ascii: " ") || t[j] == UInt8(ascii: ":") { j += 1 }
            guard j < t.count else { return nil }
            let opensMath = t[j] == UInt8(ascii: "$") || matches(t, at: j, Array("\\(".utf8)) || matches(t, at: j, Array("\\[".utf8))
            guard opensMath || isDigit(t[j]) || t[j] == UInt8(ascii: "-") else { return nil }
            return answerIs(Array(t[k...]))
        }
        return nil
    }

    // MARK: - Places

    static func answerTag(_ t: [UInt8]) -> [UInt8]? {
        guard let open = lastIndex(of: Self.openTag, in: t) else { return nil }
        let start = open + openTag.count
        let end = firstIndex(of: closeTag, in: t, from: start) ?? t.count
        let inner = Array(t[start..<end])
        return marked(inner) ?? trim(inner[...])
    }

    static func boxed(_ t: [UInt8]) -> [UInt8]? {
        guard var box = lastBox(in: t, before: t.count) else { return nil }
        var parts = [t[box.content]]
        // Boxes separated only by punctuation or "and" are one answer.
        while parts.count < 16, let prev = lastBox(in: t, before: box.start), prev.end <= box.start, onlySeparators(t[prev.end..<box.start]) {
            parts.append(t[prev.content])
            box = prev
        }
        if parts.count == 1 { return trim(parts[0]) }
        var out: [UInt8] = []
        for p in parts.reversed() where !trim(p).isEmpty {
            if !out.isEmpty { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: trim(p))
        }
        return out
    }

    static func hash(_ t: [UInt8]) -> [UInt8]? {
        guard let k = lastIndex(of: Array("####".utf8), in: t) else { return nil }
        var end = k + 4
        while end < t.count, t[end] != UInt8(ascii: "\n") { end += 1 }
        return trim(t[(k + 4)..<end])
    }

    /// After the last "answer is" / "answer:" / "answer =" (any case): a math span if one starts
    /// there, else the rest of the sentence; a sentence that starts with words ("The largest n is
    /// 34") gives its last math span or number.
    static func answerIs(_ t: [UInt8]) -> [UInt8]? {
        let word = Array("answer".utf8)
        var k = t.count - word.count
        while k >= 0 {
            defer { k -= 1 }
            guard matchesLowercased(t, at: k, word) else { continue }
            var j = k + word.count
            if j < t.count, t[j] | 0x20 == UInt8(ascii: "s") { j += 1 }
            while j < t.count, t[j] == UInt8(ascii: " ") || t[j] == UInt8(ascii: "*") { j += 1 }
            if matchesLowercased(t, at: j, Array("is".utf8)) || matchesLowercased(t, at: j, Array("are".utf8)) {
                j += t[j] | 0x20 == UInt8(ascii: "i") ? 2 : 3
                guard j >= t.count || !MathNormalization.isLetter(t[j]) else { continue }
            } else if j < t.count, t[j] == UInt8(ascii: ":") || t[j] == UInt8(ascii: "=") {
                j += 1
            } else {
                continue
            }
            while j < t.count, [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: "*"), UInt8(ascii: "\n")].contains(t[j]) { j += 1 }
            return segment(t, from: j)
        }
        return nil
    }

    /// The last number: digits with `,` / `.` separators, a leading minus, a `/` fraction.
    static func lastNumber(_ t: [UInt8]) -> Range<Int>? {
        var limit = t.count
        while let found = numberEnding(before: limit, in: t) {
            // Digits inside a word (`AZYUK2A`, `H2O`) are not a number.
            let inWord = found.lowerBound > 0 && MathNormalization.isLetter(t[found.lowerBound - 1])
                && found.upperBound < t.count && MathNormalization.isLetter(t[found.upperBound])
            if !inWord { return found }
            limit = found.lowerBound
        }
        return nil
    }

    /// The last number that ends at or before `limit`.
    private static func numberEnding(before limit: Int, in t: [UInt8]) -> Range<Int>? {
        var end = limit
        while end > 0, !isDigit(t[end - 1]) { end -= 1 }
        guard end > 0 else { return nil }
        var start = end - 1
        while start > 0 {
            let c = t[start - 1]
            if isDigit(c) { start -= 1; continue }
            if (c == UInt8(ascii: ",") || c == UInt8(ascii: ".") || c == UInt8(ascii: "/")), start >= 2, isDigit(t[start - 2]) {
                start -= 1
                continue
            }
            // A space between digit groups (`1 000`, SI style) only before a group of exactly three.
            if c == UInt8(ascii: " "), start >= 2, isDigit(t[start - 2]), start + 3 <= end, t[start..<(start + 3)].allSatisfy(isDigit),
               start + 3 == end || !isDigit(t[start + 3]) {
                start -= 1
                continue
            }
            break
        }
        if start > 0, t[start - 1] == UInt8(ascii: "-"), start < 2 || !isAlphanumeric(t[start - 2]) { start -= 1 }
        if start > 0, t[start - 1] == UInt8(ascii: "."), start < 2 || !isAlphanumeric(t[start - 2]) { start -= 1 }
        return start..<end
    }

    /// No marker: the last math span (`$...$`, `\(...\)`, `\[...\]`) if it holds or follows the last
    /// number, else the last number.
    static func looseFinal(_ t: [UInt8]) -> [UInt8]? {
        if isBareMath(t) { return trim(t[...]) }
        let number = lastNumber(t)
        if let m = lastMathSpan(t, in: 0..<t.count) {
            if number == nil || m.end >= number!.upperBound {
                let c = trim(t[m.content])
                if !c.isEmpty { return c }
            }
        }
        return number.map { numberText(t[$0]) }
    }

    /// A number as found, without the spaces between its digit groups.
    static func numberText(_ s: ArraySlice<UInt8>) -> [UInt8] { s.filter { $0 != UInt8(ascii: " ") } }

    /// A completion that is one LaTeX expression without delimiters (`\frac{10}{9}`): a command,
    /// one line, and no word of two letters or more that is not a command's name.
    static func isBareMath(_ t: [UInt8]) -> Bool {
        guard t.count <= 200, t.contains(UInt8(ascii: "\\")), !t.contains(UInt8(ascii: "\n")) else { return false }
        var k = 0
        while k < t.count {
            guard MathNormalization.isLetter(t[k]) else { k += 1; continue }
            let start = k
            while k < t.count, MathNormalization.isLetter(t[k]) { k += 1 }
            if k - start >= 2, start == 0 || t[start - 1] != UInt8(ascii: "\\") { return false }
        }
        return true
    }

    // MARK: - Pieces

    private static let openTag = Array("<answer>".utf8)
    private static let closeTag = Array("</answer>".utf8)

    /// A `\boxed`/`\fbox` command ending before `limit`: where it starts, its content, its end.
    private static func lastBox(in t: [UInt8], before limit: Int) -> (start: Int, content: Range<Int>, end: Int)? {
        var k = limit - 1
        while k >= 0 {
            if t[k] == UInt8(ascii: "\\") {
                for name in [boxedName, fboxName] where matches(t, at: k + 1, name) {
                    var j = k + 1 + name.count
                    guard j >= t.count || !MathNormalization.isLetter(t[j]) else { continue }
                    while j < t.count, t[j] == UInt8(ascii: " ") { j += 1 }
                    if j < t.count, t[j] == UInt8(ascii: "{") {
                        var depth = 0
                        var e = j
                        while e < t.count {
                            let c = t[e]
                            if c == UInt8(ascii: "\\") { e += 2; continue }
                            if c == UInt8(ascii: "{") { depth += 1 }
                            if c == UInt8(ascii: "}") { depth -= 1; if depth == 0 { break } }
                            e += 1
                        }
                        // An unclosed box (a truncated completion) has no answer in it.
                        guard e < t.count else { return (k, j..<j, t.count) }
                        return (k, (j + 1)..<e, e + 1)
                    }
                    // `\boxed 5`: up to the next space or dollar.
                    var e = j
                    while e < t.count, t[e] != UInt8(ascii: " "), t[e] != UInt8(ascii: "$"), t[e] != UInt8(ascii: "\n") { e += 1 }
                    return (k, j..<e, e)
                }
            }
            k -= 1
        }
        return nil
    }
    private static let boxedName = Array("boxed".utf8)
    private static let fboxName = Array("fbox".utf8)

    /// Whether the text between two boxes only separates them (`, `, ` and `, `$ $`, `\quad`).
    private static func onlySeparators(_ gap: ArraySlice<UInt8>) -> Bool {
        guard gap.count <= 40 else { return false }
        // Words inside `\text{...}` are part of the math between the boxes (`\boxed{a} \text{ for
        // part (a) and } \boxed{b}`); they neither separate nor end the answer.
        var kept: [UInt8] = []
        var k = gap.startIndex
        let text = Array("\\text{".utf8)
        while k < gap.endIndex {
            if gap[k] == UInt8(ascii: "\\"), gap[k...].starts(with: text), let close = gap[k...].firstIndex(of: UInt8(ascii: "}")) {
                if gap[(k + text.count)..<close].contains(UInt8(ascii: "\n")) { return false }
                k = close + 1
                continue
            }
            kept.append(gap[k])
            k += 1
        }
        // `\boxed{a} \) and \( y_2 = \boxed{b}`: the name the next box answers is not a separator.
        var end = kept.count
        while end > 0, kept[end - 1] == UInt8(ascii: " ") { end -= 1 }
        if end > 0, kept[end - 1] == UInt8(ascii: "=") {
            end -= 1
            while end > 0, kept[end - 1] == UInt8(ascii: " ") { end -= 1 }
            if end > 0, kept[end - 1] == UInt8(ascii: "}"), let open = kept[..<end].lastIndex(of: UInt8(ascii: "{")),
               open >= 1, kept[open - 1] == UInt8(ascii: "_") {
                end = open - 1
            } else if end >= 2, kept[end - 2] == UInt8(ascii: "_"), isAlphanumeric(kept[end - 1]) {
                end -= 2
            }
            let nameEnd = end
            while end > 0, MathNormalization.isLetter(kept[end - 1]) { end -= 1 }
            guard end < nameEnd else { return false }
            kept.removeSubrange(end...)
        }
        var words: [String] = []
        var word: [UInt8] = []
        for c in kept + [UInt8(ascii: " ")] {
            if MathNormalization.isLetter(c) { word.append(c | 0x20); continue }
            if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)); word = [] }
            guard " \n\t,;$\\(){}[]&~".utf8.contains(c) else { return false }
        }
        let separators = ["and", "or", "quad", "qquad", "text"]
        if words.allSatisfy(separators.contains) { return true }
        // `\boxed{1} papers and \boxed{2}`: one word naming what the box counts, then "and"/"or".
        return words.count == 2 && ["and", "or"].contains(words[1]) && !["not", "but", "is", "was"].contains(words[0])
    }

    /// The answer at `j`: a math span opening there, or the sentence that starts there.
    private static func segment(_ t: [UInt8], from j: Int) -> [UInt8]? {
        if let m = mathSpan(t, openingAt: j) { return trim(t[m]) }
        var end = j
        while end < t.count {
            let c = t[end]
            if c == UInt8(ascii: "\n") { break }
            if c == UInt8(ascii: "."), end + 1 == t.count || t[end + 1] == UInt8(ascii: " ") || t[end + 1] == UInt8(ascii: "\n") { break }
            end += 1
        }
        let sentence = t[j..<end]
        guard let first = sentence.first else { return nil }
        let startsWithWord = MathNormalization.isLetter(first) && sentence.count > 1 && MathNormalization.isLetter(sentence[sentence.startIndex + 1])
        if startsWithWord {
            let local = Array(sentence)
            if let inner = looseFinal(local) { return inner }
        }
        return trim(sentence)
    }

    /// The content of a `$...$`, `$$...$$`, `\(...\)` or `\[...\]` span opening exactly at `j`.
    private static func mathSpan(_ t: [UInt8], openingAt j: Int) -> Range<Int>? {
        let pairs: [([UInt8], [UInt8])] = [(Array("$$".utf8), Array("$$".utf8)), (Array("$".utf8), Array("$".utf8)),
                                           (Array("\\(".utf8), Array("\\)".utf8)), (Array("\\[".utf8), Array("\\]".utf8))]
        for (open, close) in pairs where matches(t, at: j, open) {
            let start = j + open.count
            guard let end = firstIndex(of: close, in: t, from: start) else { continue }
            if open == [UInt8(ascii: "$")], t[start..<end].contains(UInt8(ascii: "\n")) { continue }
            return start..<end
        }
        return nil
    }

    /// The math span that ends last inside `range`.
    private static func lastMathSpan(_ t: [UInt8], in range: Range<Int>) -> (content: Range<Int>, end: Int)? {
        var best: (content: Range<Int>, end: Int)? = nil
        // `$...$` / `$$...$$`: pair unescaped dollars from the end.
        var k = range.upperBound - 1
        while k >= range.lowerBound, !(t[k] == UInt8(ascii: "$") && (k == 0 || t[k - 1] != UInt8(ascii: "\\"))) { k -= 1 }
        if k >= range.lowerBound {
            let double = k > range.lowerBound && t[k - 1] == UInt8(ascii: "$")
            let closeStart = double ? k - 1 : k
            var o = closeStart - 1
            while o >= range.lowerBound, !(t[o] == UInt8(ascii: "$") && (o == 0 || t[o - 1] != UInt8(ascii: "\\"))) { o -= 1 }
            if o >= range.lowerBound {
                let content = (o + 1)..<closeStart
                let inline = !double
                if !(inline && t[content].contains(UInt8(ascii: "\n"))), content.count <= 500 {
                    best = (content, k + 1)
                }
            }
        }
        for (open, close) in [(Array("\\(".utf8), Array("\\)".utf8)), (Array("\\[".utf8), Array("\\]".utf8))] {
            guard let c = lastIndex(of: close, in: t, before: range.upperBound), c >= range.lowerBound,
                  let o = lastIndex(of: open, in: t, before: c), o >= range.lowerBound else { continue }
            if best == nil || c + 2 > best!.end { best = ((o + 2)..<c, c + 2) }
        }
        return best
    }

    // MARK: - Byte search

    private static func matches(_ t: [UInt8], at k: Int, _ p: [UInt8]) -> Bool {
        guard k >= 0, k + p.count <= t.count else { return false }
        for (m, c) in p.enumerated() where t[k + m] != c { return false }
        return true
    }

    private static func matchesLowercased(_ t: [UInt8], at k: Int, _ p: [UInt8]) -> Bool {
        guard k >= 0, k + p.count <= t.count else { return false }
        for (m, c) in p.enumerated() where t[k + m] | 0x20 != c { return false }
        return true
    }

    private static func lastIndex(of p: [UInt8], in t: [UInt8], before limit: Int? = nil) -> Int? {
        var k = (limit ?? t.count) - p.count
        while k >= 0 {
            if t[k] == p[0], matches(t, at: k, p) { return k }
            k -= 1
        }
        return nil
    }

    private static func firstIndex(of p: [UInt8], in t: [UInt8], from start: Int) -> Int? {
        var k = start
        while k + p.count <= t.count {
            if t[k] == p[0], matches(t, at: k, p) { return k }
            k += 1
        }
        return nil
    }

    private static func trim(_ s: ArraySlice<UInt8>) -> [UInt8] {
        var a = s.startIndex, b = s.endIndex
        while a < b, [UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains(s[a]) { a += 1 }
        while b > a, [UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r")].contains(s[b - 1]) { b -= 1 }
        return Array(s[a..<b])
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    private static func isAlphanumeric(_ c: UInt8) -> Bool { isDigit(c) || MathNormalization.isLetter(c) }
}
