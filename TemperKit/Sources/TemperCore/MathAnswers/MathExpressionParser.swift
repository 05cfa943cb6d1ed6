import Foundation

/// A recursive-descent reader of normalised answers (see `MathNormalization`) into `MathNode`.
///
/// It reads the LaTeX and plain-text forms graders meet: `\frac{a}{b}` and the shorthand
/// `\frac12`, `\sqrt3`, `\sqrt[3]{8}`, implicit products (`2\sqrt{3}`, `3x`), mixed numbers
/// (`2\frac{1}{2}`, `2 1/2`), thousands separators, scientific notation, repeating decimals
/// (`0.\overline{3}`), percent, functions, `|x|`, factorials, binomials, tuples, intervals, sets,
/// unions, matrices and relations. Words and `\text{}` become `.text` nodes; next to a value they
/// are units and are dropped (`5\text{ cm}^2`, `12 apples`), on their own they are the answer.
/// A string it cannot read completely yields nil, and the caller compares text instead.
struct MathExpressionParser {
    private let s: [UInt8]
    private var i = 0
    /// Read `1,5` as one and a half (a top-level comma between digits as a decimal point).
    private let decimalComma: Bool
    /// Nesting of `(`, `[` and `\{`: thousands separators are only recognised outside them.
    private var depth = 0
    private var absDepth = 0
    /// Recursion depth, bounded so that a hostile answer (`((((...`) fails instead of
    /// exhausting the stack of a worker thread.
    private var nesting = 0
    private static let maxNesting = 48

    private init(_ s: [UInt8], decimalComma: Bool) {
        self.s = s
        self.decimalComma = decimalComma
    }

    /// The whole of `text` as one answer, or nil when some of it is not understood.
    static func parse(_ text: [UInt8], decimalComma: Bool = false) -> MathNode? {
        guard !text.isEmpty else { return nil }
        var p = MathExpressionParser(text, decimalComma: decimalComma)
        guard let node = p.parseList(topLevel: true) else { return nil }
        p.skipSpaces()
        return p.i == text.count ? node : nil
    }

    /// Whether `text` has a top-level comma that could be a decimal comma (`1,5`, `0,111`) rather
    /// than a list separator or a thousands separator; such answers are read both ways.
    static func hasAmbiguousComma(_ text: [UInt8]) -> Bool {
        var commas = 0
        var candidate = false
        var depth = 0
        for (k, c) in text.enumerated() {
            switch c {
            case UInt8(ascii: "("), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: "."): return false
            case UInt8(ascii: ",") where depth == 0:
                commas += 1
                guard k > 0, k + 1 < text.count, isDigit(text[k - 1]), isDigit(text[k + 1]) else { continue }
                var run = 0
                while k + 1 + run < text.count, isDigit(text[k + 1 + run]) { run += 1 }
                var lead = 0
                while k - 1 - lead >= 0, isDigit(text[k - 1 - lead]) { lead += 1 }
                let leadingZero = lead == 1 && text[k - 1] == UInt8(ascii: "0")
                candidate = run != 3 || leadingZero
            default: break
            }
        }
        return commas == 1 && candidate
    }

    // MARK: - Lists, unions, relations

    private mutating func parseList(topLevel: Bool) -> MathNode? {
        var items: [MathNode] = []
        while true {
            guard let item = parseUnion() else { return nil }
            items.append(item)
            skipSpaces()
            if peek == UInt8(ascii: ",") || peek == UInt8(ascii: ";") {
                i += 1
            } else if let end = conjunctionEnd() {
                i = end
            } else {
                break
            }
            skipSpaces()
            if topLevel, i == s.count { break } // trailing separator
        }
        return items.count == 1 ? items[0] : .list(items)
    }

    private mutating func parseUnion() -> MathNode? {
        guard let first = parseRelation() else { return nil }
        var parts = [first]
        while consumeCommand("cup") {
            guard let next = parseRelation() else { return nil }
            parts.append(next)
        }
        return parts.count == 1 ? first : .union(parts)
    }

    private mutating func parseRelation() -> MathNode? {
        guard let first = parseSum() else { return nil }
        var parts = [first]
        var rels: [MathRelation] = []
        while let rel = relationOperator() {
            guard let next = parseSum() else { return nil }
            parts.append(next)
            rels.append(rel)
        }
        return rels.isEmpty ? first : .relation(parts, rels)
    }

    private mutating func relationOperator() -> MathRelation? {
        skipSpaces()
        guard let c = peek else { return nil }
        let next = peek(1)
        switch c {
        case UInt8(ascii: "="):
            i += next == UInt8(ascii: "=") ? 2 : 1
            return .equal
        case UInt8(ascii: "<"):
            if next == UInt8(ascii: "=") { i += 2; return .lessEqual }
            i += 1
            return .less
        case UInt8(ascii: ">"):
            if next == UInt8(ascii: "=") { i += 2; return .greaterEqual }
            i += 1
            return .greater
        case UInt8(ascii: "!") where next == UInt8(ascii: "="):
            i += 2
            return .notEqual
        case UInt8(ascii: "\\"):
            let save = i
            let name = readCommandName()
            switch name {
            case "le", "leq", "leqslant": return .lessEqual
            case "ge", "geq", "geqslant": return .greaterEqual
            case "lt": return .less
            case "gt": return .greater
            case "ne", "neq": return .notEqual
            case "approx", "simeq", "sim": return .approx
            case "in": return .member
            default: i = save; return nil
            }
        default: return nil
        }
    }

    // MARK: - Arithmetic

    private mutating func parseSum() -> MathNode? {
        guard let first = parseTerm() else { return nil }
        var terms = [first]
        var pm: MathNode? = nil
        while true {
            skipSpaces()
            guard let c = peek else { break }
            if c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                i += 1
                guard let t = parseTerm() else { return nil }
                terms.append(c == UInt8(ascii: "-") ? .neg(t) : t)
            } else if c == UInt8(ascii: "\\"), let minus = plusMinusOperator() {
                guard let t = parseTerm() else { return nil }
                let left: MathNode = pm.map { .sum([$0] + terms) } ?? (terms.count == 1 ? terms[0] : .sum(terms))
                pm = .plusMinus(left, minus ? .neg(t) : t)
                terms = []
            } else {
                break
            }
        }
        if let pm { return terms.isEmpty ? pm : .sum([pm] + terms) }
        return terms.count == 1 ? first : .sum(terms)
    }

    /// Consumes `\pm` (false) or `\mp` (true).
    private mutating func plusMinusOperator() -> Bool? {
        if consumeCommand("pm") { return false }
        if consumeCommand("mp") { return true }
        return nil
    }

    private mutating func parseTerm() -> MathNode? {
        guard var left = parseUnary() else { return nil }
        var factors: [MathNode] = []
        while true {
            skipSpaces()
            guard let c = peek else { break }
            if c == UInt8(ascii: "*") {
                i += 1
                guard let r = parseUnary() else { return nil }
                factors.append(left); left = r
            } else if c == UInt8(ascii: "/") {
                i += 1
                guard let r = parseUnary() else { return nil }
                left = .quotient(left, r)
            } else if c == UInt8(ascii: "\\"), let op = multiplicativeCommand() {
                guard let r = parseUnary() else { return nil }
                if op { left = .quotient(left, r) } else { factors.append(left); left = r }
            } else if startsFactor(), conjunctionEnd() == nil {
                let isFrac = lookingAtCommand("frac")
                guard let r = parsePower() else { return nil }
                if isFrac, factors.isEmpty, let mixed = mixedNumber(left, r) {
                    left = mixed
                } else {
                    factors.append(left); left = r
                }
            } else {
                break
            }
        }
        if factors.isEmpty { return left }
        return .product(factors + [left])
    }

    /// `\cdot`, `\times`, `\ast` → false (multiply); `\div` → true (divide).
    private mutating func multiplicativeCommand() -> Bool? {
        for name in ["cdot", "times", "ast"] where consumeCommand(name) { return false }
        if consumeCommand("div") { return true }
        return nil
    }

    /// `2\frac{1}{2}` read as two and a half: an integer literal directly followed by a proper
    /// fraction of integer literals is a mixed number, as in the MATH dataset's answers.
    private func mixedNumber(_ whole: MathNode, _ frac: MathNode) -> MathNode? {
        guard case .quotient(.number(.exact(let a)), .number(.exact(let b))) = frac,
              a.isInteger, b.isInteger, a.num > 0, a.num < b.num else { return nil }
        var negative = false
        var w = whole
        if case .neg(let inner) = whole { negative = true; w = inner }
        guard case .number(.exact(let n)) = w, n.isInteger, n.num >= 0,
              let f = Rational(a.num, b.num), let v = n.adding(f) else { return nil }
        return negative ? .neg(.number(.exact(v))) : .number(.exact(v))
    }

    private mutating func parseUnary() -> MathNode? {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maxNesting else { return nil }
        skipSpaces()
        guard let c = peek else { return nil }
        if c == UInt8(ascii: "-") {
            i += 1
            return parseUnary().map { .neg($0) }
        }
        if c == UInt8(ascii: "+") {
            i += 1
            return parseUnary()
        }
        if c == UInt8(ascii: "\\"), let minus = plusMinusOperator() {
            guard let t = parseUnary() else { return nil }
            return .plusMinus(.number(.exact(Rational(integer: 0))), minus ? .neg(t) : t)
        }
        return parsePower()
    }

    private mutating func parsePower() -> MathNode? {
        guard let base = parsePostfix() else { return nil }
        skipSpaces()
        guard peek == UInt8(ascii: "^") else { return base }
        i += 1
        guard let exponent = parseExponent() else { return nil }
        return parsePostfixOperators(.power(base, exponent))
    }

    /// An exponent: a braced group, or one signed atom (`x^2`, `10^{-3}`, `2^-1`, `e^x`).
    private mutating func parseExponent() -> MathNode? {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maxNesting else { return nil }
        skipSpaces()
        if peek == UInt8(ascii: "-") {
            i += 1
            return parseExponent().map { .neg($0) }
        }
        if peek == UInt8(ascii: "{") {
            i += 1
            guard let e = parseList(topLevel: false), expect(UInt8(ascii: "}")) else { return nil }
            return e
        }
        if let c = peek, isLetter(c) {
            i += 1
            return .symbol(String(UnicodeScalar(c)))
        }
        return parsePrimary()
    }

    private mutating func parsePostfix() -> MathNode? {
        guard let p = parsePrimary() else { return nil }
        return parsePostfixOperators(p)
    }

    private mutating func parsePostfixOperators(_ node: MathNode) -> MathNode {
        var node = node
        while true {
            skipSpaces()
            if peek == UInt8(ascii: "!"), peek(1) != UInt8(ascii: "=") {
                i += 1
                node = .factorial(node)
            } else if peek == UInt8(ascii: "%") {
                i += 1
                node = .percent(node)
            } else if peek == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "%") {
                i += 2
                node = .percent(node)
            } else if let end = wordEnd(["percent", "pct", "percentage"]) {
                i = end
                node = .percent(node)
            } else if peek == UInt8(ascii: "'") {
                i += 1 // primes on function names (f'(x)) are kept out of the value
            } else {
                return node
            }
        }
    }

    // MARK: - Primaries

    private mutating func parsePrimary() -> MathNode? {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Self.maxNesting else { return nil }
        skipSpaces()
        guard let c = peek else { return nil }
        if isDigit(c) || (c == UInt8(ascii: ".") && peek(1).map(isDigit) == true) { return parseNumber() }
        if isLetter(c) { return parseWordOrSymbol() }
        switch c {
        case UInt8(ascii: "("), UInt8(ascii: "["):
            i += 1
            depth += 1
            defer { depth -= 1 }
            var items: [MathNode] = []
            skipSpaces()
            while true {
                guard let item = parseUnion() else { return nil }
                items.append(item)
                skipSpaces()
                // `(0;-2;6)`: a semicolon separates coordinates as a comma does.
                if peek == UInt8(ascii: ",") || peek == UInt8(ascii: ";") { i += 1; continue }
                break
            }
            guard let close = peek, close == UInt8(ascii: ")") || close == UInt8(ascii: "]") else { return nil }
            i += 1
            if items.count == 1, (c == UInt8(ascii: "(")) == (close == UInt8(ascii: ")")) { return items[0] }
            return .tuple(items, open: c, close: close)
        case UInt8(ascii: "{"):
            i += 1
            skipSpaces()
            if peek == UInt8(ascii: "}") { i += 1; return .list([]) }
            guard let e = parseList(topLevel: false), expect(UInt8(ascii: "}")) else { return nil }
            return e
        case UInt8(ascii: "|") where absDepth == 0 || !lastWasOperand:
            i += 1
            absDepth += 1
            defer { absDepth -= 1 }
            guard let e = parseSum(), expect(UInt8(ascii: "|")) else { return nil }
            return .function("abs", e)
        case UInt8(ascii: "\\"):
            return parseCommand()
        default:
            return nil
        }
    }

    /// Whether the character before the cursor ends an operand (so a `|` there closes a bar).
    private var lastWasOperand: Bool {
        var k = i - 1
        while k >= 0, s[k] == UInt8(ascii: " ") { k -= 1 }
        guard k >= 0 else { return false }
        let c = s[k]
        return isDigit(c) || isLetter(c) || c == UInt8(ascii: ")") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]")
    }

    private mutating func parseCommand() -> MathNode? {
        let save = i
        if peek(1) == UInt8(ascii: "{") {
            i += 2
            depth += 1
            defer { depth -= 1 }
            skipSpaces()
            if consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "}")) { return .set([]) }
            guard let e = parseList(topLevel: false) else { return nil }
            skipSpaces()
            guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "}")) else { return nil }
            if case .list(let xs) = e { return .set(xs) }
            return .set([e])
        }
        let name = readCommandName()
        switch name {
        case "frac":
            guard let a = parseArgument(), let b = parseArgument() else { return nil }
            return .quotient(a, b)
        case "binom":
            guard let a = parseArgument(), let b = parseArgument() else { return nil }
            return .function("binom", .tuple([a, b], open: 0, close: 0))
        case "sqrt":
            var index: MathNode = .number(.exact(Rational(integer: 2)))
            skipSpaces()
            if peek == UInt8(ascii: "[") {
                i += 1
                guard let k = parseSum(), expect(UInt8(ascii: "]")) else { return nil }
                index = k
            }
            guard let a = parseArgument() else { return nil }
            return .root(a, index: index)
        case "pi": return .number(.approx(Double.pi))
        case "infty", "infin", "inf": return .number(.approx(.infinity))
        case "text", "textnormal", "textbf", "textit", "textrm", "textsf", "texttt", "mbox", "emph", "textup", "hbox":
            guard let content = readBracedRaw() else { return nil }
            // One letter alone (`\text{e}`, `\mathrm{e}`) is that letter in math, as math-verify reads it.
            let letters = content.filter { $0 != UInt8(ascii: " ") }
            if letters.count == 1, isLetter(letters[0]) {
                return letters[0] == UInt8(ascii: "e") ? .number(.approx(M_E)) : .symbol(String(UnicodeScalar(letters[0])))
            }
            return .text(MathExpressionParser.textKey(content))
        case "lfloor", "lceil":
            guard let e = parseSum() else { return nil }
            guard consumeCommand(name == "lfloor" ? "rfloor" : "rceil") else { return nil }
            return .function(name == "lfloor" ? "floor" : "ceil", e)
        case "begin":
            return parseEnvironment()
        case "overline", "bar", "vec", "hat", "tilde", "mathbf":
            return parseArgument()
        default:
            if MathExpressionParser.functions.contains(name) { return parseFunction(name) }
            if MathExpressionParser.operatorCommands.contains(name) || name.isEmpty { i = save; return nil }
            // Greek letters and other named symbols are variables.
            return .symbol("\\" + name)
        }
    }

    /// `\sin x`, `\sin^2(x)`, `\log_2 8`, `\ln(x+1)`: the argument is a bracketed group or the run
    /// of simple factors that follows (`\sin 2x`), stopping at the next operator or function.
    private mutating func parseFunction(_ name: String) -> MathNode? {
        var exponent: MathNode? = nil
        var base: MathNode? = nil
        for _ in 0..<2 {
            skipSpaces()
            if peek == UInt8(ascii: "^") { i += 1; exponent = parseExponent(); if exponent == nil { return nil } }
            else if peek == UInt8(ascii: "_") { i += 1; base = parseExponent(); if base == nil { return nil } }
        }
        skipSpaces()
        var arg: MathNode
        if let c = peek, c == UInt8(ascii: "(") || c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
            guard let a = parsePrimary() else { return nil }
            arg = a
        } else {
            guard let first = parsePower() else { return nil }
            var factors = [first]
            while true {
                skipSpaces()
                guard let c = peek, isDigit(c) || isLetter(c) else { break }
                if conjunctionEnd() != nil { break }
                guard let f = parsePower() else { return nil }
                factors.append(f)
            }
            arg = factors.count == 1 ? first : .product(factors)
        }
        var fname = name
        if let e = exponent, case .neg(.number(.exact(let r))) = e, r == Rational(integer: 1),
           ["sin", "cos", "tan", "sec", "csc", "cot"].contains(name) {
            fname = "arc" + name
            exponent = nil
        }
        var node: MathNode = .function(fname, arg)
        if fname == "log", let b = base { node = .quotient(.function("ln", arg), .function("ln", b)) }
        if let e = exponent { node = .power(node, e) }
        return node
    }

    /// `\frac`/`\sqrt`/`\binom` argument: a braced group, or LaTeX's single-token shorthand
    /// (`\frac12`, `\sqrt3`, `\frac{\pi}2`, `\sqrt x`).
    private mutating func parseArgument() -> MathNode? {
        skipSpaces()
        guard let c = peek else { return nil }
        if c == UInt8(ascii: "{") {
            i += 1
            guard let e = parseList(topLevel: false), expect(UInt8(ascii: "}")) else { return nil }
            return e
        }
        if isDigit(c) {
            i += 1
            return .number(.exact(Rational(integer: Int(c - UInt8(ascii: "0")))))
        }
        if isLetter(c) {
            i += 1
            return .symbol(String(UnicodeScalar(c)))
        }
        if c == UInt8(ascii: "\\") { return parseCommand() }
        return nil
    }

    private mutating func parseEnvironment() -> MathNode? {
        guard let env = readBracedRaw() else { return nil }
        let name = String(decoding: env, as: UTF8.self)
        guard ["pmatrix", "bmatrix", "matrix", "vmatrix", "Bmatrix", "smallmatrix", "array"].contains(name) else { return nil }
        if name == "array" { _ = readBracedRaw() }
        depth += 1
        defer { depth -= 1 }
        var rows: [[MathNode]] = []
        var row: [MathNode] = []
        while true {
            skipSpaces()
            if lookingAtCommand("end") {
                _ = readCommandName()
                _ = readBracedRaw()
                if !row.isEmpty { rows.append(row) }
                break
            }
            if peek == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "\\") {
                i += 2
                if !row.isEmpty { rows.append(row) }
                row = []
                continue
            }
            if peek == UInt8(ascii: "&") { i += 1; continue }
            guard let cell = parseUnion() else { return nil }
            row.append(cell)
        }
        guard !rows.isEmpty, rows.allSatisfy({ $0.count == rows[0].count }) else { return nil }
        let matrix = MathNode.matrix(rows)
        return name == "vmatrix" ? .function("det", matrix) : matrix
    }

    /// A letter run: a function name, a constant, a one-letter variable (with subscript), a unit
    /// glued to a number (`5cm`), or a word. Letters glued to other letters or digits (`2xy`) are
    /// products of one-letter variables.
    private mutating func parseWordOrSymbol() -> MathNode? {
        var j = i
        while j < s.count, isLetter(s[j]) { j += 1 }
        let run = String(decoding: s[i..<j], as: UTF8.self)
        let prev: UInt8? = i > 0 ? s[i - 1] : nil
        let separated = prev == nil || !(isDigit(prev!) || isLetter(prev!))
        if MathExpressionParser.functions.contains(run), run.count > 1 {
            i = j
            return parseFunction(run)
        }
        switch run {
        case "pi": i = j; return .number(.approx(Double.pi))
        case "inf", "infty", "infinity": i = j; return .number(.approx(.infinity))
        case "sqrt":
            i = j
            guard let a = parseArgument() else { return nil }
            return .root(a, index: .number(.exact(Rational(integer: 2))))
        default: break
        }
        if run.count > 1, separated || (prev.map(isDigit) == true && MathExpressionParser.units.contains(run.lowercased())) {
            i = j
            return .text(run.lowercased())
        }
        let letter = s[i]
        i += 1
        if letter == UInt8(ascii: "e"), peek != UInt8(ascii: "_") { return .number(.approx(M_E)) }
        var name = String(UnicodeScalar(letter))
        if peek == UInt8(ascii: "_") {
            i += 1
            guard let sub = subscriptText() else { return nil }
            name += "_" + sub
        }
        return .symbol(name)
    }

    /// The raw text of a subscript (`_1`, `_{n+1}`), used as part of a symbol's name.
    private mutating func subscriptText() -> String? {
        skipSpaces()
        guard let c = peek else { return nil }
        if c == UInt8(ascii: "{") {
            guard let raw = readBracedRaw() else { return nil }
            return String(decoding: raw.filter { $0 != UInt8(ascii: " ") }, as: UTF8.self)
        }
        guard isDigit(c) || isLetter(c) else { return nil }
        i += 1
        return String(UnicodeScalar(c))
    }

    // MARK: - Numbers

    /// A decimal literal with optional thousands separators (`1,000`, `1 000`, `14{,}916`),
    /// decimal comma (when `decimalComma`), repeating part (`0.\overline{3}`), exponent (`1e-3`),
    /// mixed number (`2 1/2`) or base subscript (`204_5`, kept as an opaque symbol).
    private mutating func parseNumber() -> MathNode? {
        var digits: [UInt8] = []
        var fraction: [UInt8] = []
        var group = 0
        while let c = peek {
            if isDigit(c) {
                digits.append(c); group += 1; i += 1
            } else if c == MathNormalization.groupSeparator || c == UInt8(ascii: " ") && peek(1) == MathNormalization.groupSeparator {
                var k = i
                while k < s.count, s[k] == UInt8(ascii: " ") || s[k] == MathNormalization.groupSeparator { k += 1 }
                guard k < s.count, isDigit(s[k]) else { break }
                i = k; group = 0
            } else if c == UInt8(ascii: ","), depth == 0, !decimalComma, threeDigitGroup(at: i + 1),
                      !(digits.count == 1 && digits[0] == UInt8(ascii: "0")), group <= 3 {
                i += 1; group = 0
            } else if c == UInt8(ascii: " "), depth == 0, let mixed = mixedPlain(whole: digits) {
                return mixed
            } else if c == UInt8(ascii: " "), depth == 0, group >= 1, group <= 3, threeDigitGroup(at: i + 1),
                      digitsBeforeAreGroups(digits, group) {
                i += 1; group = 0
            } else {
                break
            }
        }
        let decimalMark = peek == UInt8(ascii: ".") || (decimalComma && depth == 0 && peek == UInt8(ascii: ","))
        if decimalMark, let d = peek(1), isDigit(d) {
            i += 1
            while let c = peek, isDigit(c) { fraction.append(c); i += 1 }
        } else if peek == UInt8(ascii: "."), lookingAtCommand("overline", from: i + 1) {
            i += 1
        }
        var repeating: [UInt8] = []
        if lookingAtCommand("overline") {
            let save = i
            _ = readCommandName()
            skipSpaces()
            if peek == UInt8(ascii: "{"), let raw = readBracedRaw(), !raw.isEmpty, raw.allSatisfy(isDigit) {
                repeating = raw
            } else if let c = peek, isDigit(c) {
                repeating = [c]; i += 1
            } else {
                i = save
            }
        }
        var exponent = 0
        if let c = peek, c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
            var k = i + 1
            var sign = 1
            if k < s.count, s[k] == UInt8(ascii: "-") || s[k] == UInt8(ascii: "+") { sign = s[k] == UInt8(ascii: "-") ? -1 : 1; k += 1 }
            var e = 0
            var any = false
            while k < s.count, isDigit(s[k]), e < 10_000 { e = e * 10 + Int(s[k] - UInt8(ascii: "0")); k += 1; any = true }
            if any, k == s.count || !isLetter(s[k]) { exponent = sign * e; i = k }
        }
        if peek == UInt8(ascii: "_"), repeating.isEmpty, fraction.isEmpty {
            i += 1
            guard let base = subscriptText() else { return nil }
            return .symbol(String(decoding: digits, as: UTF8.self) + "_" + base)
        }
        return .number(MathExpressionParser.decimal(digits, fraction, repeating, exponent))
    }

    /// Exactly three digits at `k` and no fourth: a thousands group.
    private func threeDigitGroup(at k: Int) -> Bool {
        guard k + 2 < s.count, isDigit(s[k]), isDigit(s[k + 1]), isDigit(s[k + 2]) else { return false }
        return k + 3 == s.count || !(isDigit(s[k + 3]) || s[k + 3] == UInt8(ascii: "/"))
    }

    private func digitsBeforeAreGroups(_ digits: [UInt8], _ group: Int) -> Bool {
        // `1 000` and `12 345 678`: the first group has 1–3 digits, later ones 3.
        digits.count == group || group == 3
    }

    /// `2 1/2` read as two and a half.
    private mutating func mixedPlain(whole: [UInt8]) -> MathNode? {
        guard !whole.isEmpty, whole.count <= 6 else { return nil }
        var k = i + 1
        var a = 0, b = 0, na = 0, nb = 0
        while k < s.count, isDigit(s[k]), na < 6 { a = a * 10 + Int(s[k] - UInt8(ascii: "0")); k += 1; na += 1 }
        guard na > 0, k < s.count, s[k] == UInt8(ascii: "/") else { return nil }
        k += 1
        while k < s.count, isDigit(s[k]), nb < 6 { b = b * 10 + Int(s[k] - UInt8(ascii: "0")); k += 1; nb += 1 }
        guard nb > 0, k == s.count || !(isDigit(s[k]) || s[k] == UInt8(ascii: ".")), a > 0, a < b else { return nil }
        let w = whole.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard let f = Rational(a, b), let v = Rational(integer: w).adding(f) else { return nil }
        i = k
        return .number(.exact(v))
    }

    /// The exact value of a decimal literal, or its `Double` when it does not fit in `Int`.
    static func decimal(_ digits: [UInt8], _ fraction: [UInt8], _ repeating: [UInt8], _ exponent: Int) -> Num {
        func intValue(_ ds: ArraySlice<UInt8>) -> Int? {
            var v = 0
            for d in ds {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(d - UInt8(ascii: "0")))
                if o1 || o2 { return nil }
                v = a
            }
            return v
        }
        let mantissa = digits + fraction
        let tenPower = Rational(integer: 10).power(fraction.count)
        if let m = intValue(mantissa[...]), let scale = tenPower, var value = Rational(m, scale.num) {
            if !repeating.isEmpty {
                // 0.1\overline{6}: the repeating block r adds r / (10^f · (10^len − 1)).
                guard let r = intValue(repeating[...]), let p = Rational(integer: 10).power(repeating.count),
                      let denom = Rational(integer: p.num - 1).multiplying(scale),
                      let extra = Rational(r, denom.num), let v = value.adding(extra) else { return .nan }
                value = v
            }
            if exponent == 0 { return .exact(value) }
            if abs(exponent) <= 18, let p = Rational(integer: 10).power(exponent), let v = value.multiplying(p) { return .exact(v) }
        }
        var text = String(decoding: digits.isEmpty ? [UInt8(ascii: "0")] : digits, as: UTF8.self)
        if !fraction.isEmpty { text += "." + String(decoding: fraction, as: UTF8.self) }
        if !repeating.isEmpty { for _ in 0..<8 { text += String(decoding: repeating, as: UTF8.self) } }
        return .approx((Double(text) ?? .nan) * Foundation.pow(10, Double(exponent)))
    }

    // MARK: - Text helpers

    /// Lower-cased letters and digits of `raw`: how words and `\text{}` contents are compared.
    static func textKey(_ raw: [UInt8]) -> String {
        var out = [UInt8]()
        var k = 0
        while k < raw.count {
            let c = raw[k]
            if c == UInt8(ascii: "\\") {
                // Drop style commands inside text (`\text{\textbf{A}}`).
                k += 1
                while k < raw.count, isLetterStatic(raw[k]) { k += 1 }
                continue
            }
            if isLetterStatic(c) { out.append(c | 0x20) } else if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") { out.append(c) }
            k += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// If the cursor is at `and`/`or` (a word or `\text{ and }`), the index after it.
    private func conjunctionEnd() -> Int? {
        var k = i
        while k < s.count, s[k] == UInt8(ascii: " ") { k += 1 }
        if k < s.count, s[k] == UInt8(ascii: "\\") {
            var j = k + 1
            while j < s.count, isLetter(s[j]) { j += 1 }
            let name = String(decoding: s[(k + 1)..<j], as: UTF8.self)
            guard ["text", "textnormal", "mbox", "textrm"].contains(name) else { return nil }
            while j < s.count, s[j] == UInt8(ascii: " ") { j += 1 }
            guard j < s.count, s[j] == UInt8(ascii: "{"), let close = s[j...].firstIndex(of: UInt8(ascii: "}")) else { return nil }
            let key = MathExpressionParser.textKey(Array(s[(j + 1)..<close]))
            let inner = s[(j + 1)..<close].filter { $0 != UInt8(ascii: " ") }
            return key == "and" || key == "or" || inner == [UInt8(ascii: ",")] ? close + 1 : nil
        }
        for word in ["and", "or"] {
            let w = Array(word.utf8)
            if k + w.count <= s.count, Array(s[k..<(k + w.count)]) == w,
               k + w.count == s.count || !isLetter(s[k + w.count]), k == 0 || !isLetter(s[k - 1]) {
                return k + w.count
            }
        }
        return nil
    }

    /// If one of `words` starts here (after spaces) as a whole word, the index after it.
    private func wordEnd(_ words: [String]) -> Int? {
        var k = i
        while k < s.count, s[k] == UInt8(ascii: " ") { k += 1 }
        guard k < s.count, isLetter(s[k]) else { return nil }
        var j = k
        while j < s.count, isLetter(s[j]) { j += 1 }
        let w = String(decoding: s[k..<j], as: UTF8.self).lowercased()
        return words.contains(w) ? j : nil
    }

    // MARK: - Cursor

    private var peek: UInt8? { i < s.count ? s[i] : nil }
    private func peek(_ k: Int) -> UInt8? { i + k < s.count ? s[i + k] : nil }

    private mutating func skipSpaces() {
        while i < s.count, s[i] == UInt8(ascii: " ") { i += 1 }
    }

    private mutating func consume(_ c: UInt8) -> Bool {
        skipSpaces()
        if peek == c { i += 1; return true }
        return false
    }

    private mutating func expect(_ c: UInt8) -> Bool { consume(c) }

    /// Reads `\name` at the cursor (after spaces) and returns `name` ("" if none).
    private mutating func readCommandName() -> String {
        skipSpaces()
        guard peek == UInt8(ascii: "\\") else { return "" }
        var j = i + 1
        while j < s.count, isLetter(s[j]) { j += 1 }
        let name = String(decoding: s[(i + 1)..<j], as: UTF8.self)
        i = j
        return name
    }

    private func lookingAtCommand(_ name: String, from start: Int? = nil) -> Bool {
        var k = start ?? i
        while k < s.count, s[k] == UInt8(ascii: " ") { k += 1 }
        guard k < s.count, s[k] == UInt8(ascii: "\\") else { return false }
        let w = Array(name.utf8)
        let end = k + 1 + w.count
        guard end <= s.count, Array(s[(k + 1)..<end]) == w else { return false }
        return end == s.count || !isLetter(s[end])
    }

    private mutating func consumeCommand(_ name: String) -> Bool {
        guard lookingAtCommand(name) else { return false }
        skipSpaces()
        i += 1 + name.utf8.count
        return true
    }

    /// The raw bytes of a `{...}` group at the cursor (balanced), without the braces.
    private mutating func readBracedRaw() -> [UInt8]? {
        skipSpaces()
        guard peek == UInt8(ascii: "{") else { return nil }
        var level = 0
        var k = i
        while k < s.count {
            if s[k] == UInt8(ascii: "{") { level += 1 }
            if s[k] == UInt8(ascii: "}") {
                level -= 1
                if level == 0 {
                    let raw = Array(s[(i + 1)..<k])
                    i = k + 1
                    return raw
                }
            }
            k += 1
        }
        return nil
    }

    /// Whether what follows can begin an implicitly multiplied factor.
    private func startsFactor() -> Bool {
        guard let c = peek else { return false }
        if isDigit(c) || isLetter(c) || c == UInt8(ascii: "(") || c == UInt8(ascii: "{") { return true }
        if c == UInt8(ascii: "|") { return absDepth == 0 }
        guard c == UInt8(ascii: "\\"), let n = peek(1), isLetter(n) else { return false }
        var j = i + 1
        while j < s.count, isLetter(s[j]) { j += 1 }
        let name = String(decoding: s[(i + 1)..<j], as: UTF8.self)
        return !MathExpressionParser.operatorCommands.contains(name)
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
    private func isLetter(_ c: UInt8) -> Bool { MathNormalization.isLetter(c) }
    private static func isLetterStatic(_ c: UInt8) -> Bool { MathNormalization.isLetter(c) }

    /// Functions evaluated numerically; plain-text spellings (`sin`, `log`) are accepted too.
    static let functions: Set<String> = ["sin", "cos", "tan", "sec", "csc", "cot", "arcsin", "arccos", "arctan",
                                         "sinh", "cosh", "tanh", "ln", "log", "exp", "det"]
    /// Commands that are operators or closers, never the start of a factor.
    static let operatorCommands: Set<String> = ["cup", "cap", "le", "leq", "leqslant", "ge", "geq", "geqslant", "lt", "gt",
                                                "ne", "neq", "approx", "simeq", "sim", "in", "pm", "mp", "times", "cdot",
                                                "ast", "div", "end", "rfloor", "rceil", "to", "rightarrow", "Rightarrow",
                                                "implies", "iff", "setminus", "quad", "equiv", "pmod", "bmod", "mod"]
    /// Units recognised when glued to a number (`5cm`, `12kg`); separated words are always units.
    static let units: Set<String> = ["cm", "mm", "km", "kg", "mg", "ml", "ft", "in", "yd", "mi", "mph", "kph", "kmh",
                                     "sec", "min", "hr", "hrs", "h", "s", "m", "g", "l", "lb", "lbs", "oz", "deg",
                                     "cents", "dollars", "am", "pm", "st", "nd", "rd", "th"]
}
