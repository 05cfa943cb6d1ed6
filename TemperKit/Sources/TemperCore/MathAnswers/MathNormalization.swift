/// Rewrites an extracted answer into the plain LaTeX subset the parser reads.
///
/// Presentation never changes the value, so it is removed here once instead of being handled in
/// every parser rule: math delimiters (`$`, `\(`, `\[`), spacing (`\!`, `\,`, `~`, `\quad`),
/// sizing (`\left`, `\right`, `\big`), styles whose argument is still math (`\mathrm`, `\mathbf`,
/// `\boxed`), degree marks, `\dfrac`/`\tfrac`/`\cfrac`, Unicode symbols (−, ×, π, √, ≤, ∞, ...).
/// LaTeX thousands separators (`{,}` and `,\!`) become `MathNormalization.groupSeparator`, which
/// the number reader always joins. `\text{}` and its kin are kept: whether their content is a unit
/// or the answer itself is for the parser to decide.
enum MathNormalization {
    /// Stands for an explicit thousands separator (`14{,}916`, `10,\!000`).
    static let groupSeparator: UInt8 = 0x01

    static func normalize(_ input: [UInt8]) -> [UInt8] {
        let text = input.contains(where: { $0 >= 0x80 }) ? mapUnicode(input) : input
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = 0
        let n = text.count
        while i < n {
            let c = text[i]
            switch c {
            case UInt8(ascii: "$"):
                i += 1
            case UInt8(ascii: "~"), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                out.append(UInt8(ascii: " "))
                i += 1
            case UInt8(ascii: "{") where groupSeparatorEnd(text, at: i) != nil:
                out.append(groupSeparator)
                i = groupSeparatorEnd(text, at: i) ?? n
            case UInt8(ascii: ","):
                // `,\!` is the MATH dataset's thousands separator.
                if i + 2 < n, text[i + 1] == UInt8(ascii: "\\"), text[i + 2] == UInt8(ascii: "!") {
                    out.append(groupSeparator)
                    i += 3
                } else {
                    out.append(c)
                    i += 1
                }
            case UInt8(ascii: "\\"):
                i = command(text, at: i, into: &out)
            default:
                out.append(c)
                i += 1
            }
        }
        trimEnds(&out)
        return out
    }

    /// The index after a `{,}` thousands separator at `i` (`{, }` too), or nil.
    private static func groupSeparatorEnd(_ text: [UInt8], at i: Int) -> Int? {
        var j = i + 1
        while j < text.count, text[j] == UInt8(ascii: " ") { j += 1 }
        guard j < text.count, text[j] == UInt8(ascii: ",") else { return nil }
        j += 1
        while j < text.count, text[j] == UInt8(ascii: " ") { j += 1 }
        return j < text.count && text[j] == UInt8(ascii: "}") ? j + 1 : nil
    }

    /// Handles the command starting at `text[i]` (a backslash) and returns the index after it.
    private static func command(_ text: [UInt8], at i: Int, into out: inout [UInt8]) -> Int {
        let n = text.count
        var j = i + 1
        guard j < n else { return n }
        var first = text[j]
        var start = i
        if first == UInt8(ascii: "\\"), j + 1 < n, isLetter(text[j + 1]) {
            // `\\frac` from a doubly escaped string: one command, not a row break.
            start = j
            j += 1
            first = text[j]
        }
        if !isLetter(first) {
            // One-character commands.
            switch first {
            case UInt8(ascii: "!"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: " "):
                out.append(UInt8(ascii: " "))
            case UInt8(ascii: "$"):
                break // currency
            case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "["), UInt8(ascii: "]"):
                out.append(UInt8(ascii: " ")) // math delimiters
            default:
                out.append(UInt8(ascii: "\\"))
                out.append(first)
            }
            return j + 1
        }
        while j < n, isLetter(text[j]) { j += 1 }
        let name = String(decoding: text[(start + 1)..<j], as: UTF8.self)
        // `\quadx_{2}` (a space forgotten after the command): the spacing, then the letters.
        for spacing in ["qquad", "quad"] where name.count > spacing.count && name.hasPrefix(spacing) {
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: text[(start + 1 + spacing.utf8.count)..<j])
            return j
        }
        switch name {
        case "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr":
            // `\left.` is an invisible delimiter; other delimiters stay.
            if j < n, text[j] == UInt8(ascii: ".") { return j + 1 }
            return j
        case "quad", "qquad", "displaystyle", "textstyle", "limits", "nolimits", "mathrm", "mathbf", "mathit",
             "mathsf", "boldsymbol", "bm", "operatorname", "rm", "bf", "boxed", "fbox", "framebox", "hline",
             "dots", "ldots", "cdots", "mathbb", "mathcal", "phantom", "hspace", "vspace", "noindent":
            if name == "hspace" || name == "vspace" || name == "phantom" { return skipGroup(text, j) }
            out.append(UInt8(ascii: " "))
            return j
        case "dfrac", "tfrac", "cfrac":
            out.append(contentsOf: Array("\\frac".utf8))
        case "dbinom", "tbinom":
            out.append(contentsOf: Array("\\binom".utf8))
        case "circ", "degree":
            // `90^\circ`: drop the dangling `^` too.
            if out.last == UInt8(ascii: "^") { out.removeLast() }
            if out.last == UInt8(ascii: "{"), j < n, text[j] == UInt8(ascii: "}"), out.count >= 2, out[out.count - 2] == UInt8(ascii: "^") {
                out.removeLast(2)
                return j + 1
            }
        case "lbrace":
            out.append(contentsOf: Array("\\{".utf8))
        case "rbrace":
            out.append(contentsOf: Array("\\}".utf8))
        case "vert", "lvert", "rvert", "mid":
            out.append(UInt8(ascii: "|"))
        case "langle":
            out.append(UInt8(ascii: "("))
        case "rangle":
            out.append(UInt8(ascii: ")"))
        case "emptyset", "varnothing":
            out.append(contentsOf: Array("\\{\\}".utf8))
        default:
            out.append(contentsOf: text[start..<j])
        }
        return j
    }

    /// Skips `{...}` after a command whose argument is layout only.
    private static func skipGroup(_ text: [UInt8], _ start: Int) -> Int {
        var j = start
        while j < text.count, text[j] == UInt8(ascii: " ") { j += 1 }
        guard j < text.count, text[j] == UInt8(ascii: "{") else { return start }
        var depth = 0
        while j < text.count {
            if text[j] == UInt8(ascii: "{") { depth += 1 }
            if text[j] == UInt8(ascii: "}") { depth -= 1; if depth == 0 { return j + 1 } }
            j += 1
        }
        return j
    }

    /// Drops surrounding whitespace and sentence punctuation (`42.` at the end of a sentence).
    private static func trimEnds(_ out: inout [UInt8]) {
        while let last = out.last, last == UInt8(ascii: " ") || last == UInt8(ascii: ".") || last == UInt8(ascii: ",") || last == UInt8(ascii: ";") || last == UInt8(ascii: ":") {
            out.removeLast()
        }
        var start = 0
        while start < out.count, out[start] == UInt8(ascii: " ") || out[start] == UInt8(ascii: ":") { start += 1 }
        if start > 0 { out.removeFirst(start) }
    }

    static func isLetter(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }

    /// Replaces the Unicode math symbols models emit with their LaTeX spelling.
    private static func mapUnicode(_ input: [UInt8]) -> [UInt8] {
        var out = ""
        for scalar in String(decoding: input, as: UTF8.self).unicodeScalars {
            switch scalar {
            case "\u{2212}", "\u{2013}", "\u{2014}": out += "-"
            case "\u{00D7}", "\u{22C5}", "\u{00B7}", "\u{2217}": out += "\\cdot "
            case "\u{00F7}": out += "/"
            case "\u{03C0}": out += "\\pi "
            case "\u{221A}": out += "\\sqrt"
            case "\u{221E}": out += "\\infty "
            case "\u{00B0}": out += ""
            case "\u{2264}": out += "\\le "
            case "\u{2265}": out += "\\ge "
            case "\u{2260}": out += "\\ne "
            case "\u{2248}": out += "\\approx "
            case "\u{00B1}": out += "\\pm "
            case "\u{2208}": out += "\\in "
            case "\u{222A}": out += "\\cup "
            case "\u{00B2}": out += "^2"
            case "\u{00B3}": out += "^3"
            case "\u{00BD}": out += "(1/2)"
            case "\u{00BC}": out += "(1/4)"
            case "\u{00BE}": out += "(3/4)"
            case "\u{20AC}", "\u{00A3}", "\u{00A5}", "\u{20B9}": out += ""
            case "\u{00A0}", "\u{2009}", "\u{202F}", "\u{2007}": out += " "
            default: out.unicodeScalars.append(scalar)
            }
        }
        return Array(out.utf8)
    }
}
