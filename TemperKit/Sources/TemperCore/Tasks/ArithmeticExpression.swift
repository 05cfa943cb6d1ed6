/// An arithmetic expression over non-negative integer literals with `+ - * /` and parentheses,
/// evaluated exactly: the language of Countdown answers.
///
/// Division is exact (`7 / 2` is 7/2, not 3 or 3.5), so a reward compares with the target without
/// float tolerance. `×`, `÷`, `−` and `–` are read as their ASCII operators since models write
/// them. There is no unary minus: Countdown combines the given numbers with binary operations only.
public struct ArithmeticExpression: Equatable, Sendable {
    /// The exact value.
    public let value: ExactRational
    /// The integer literals in the order written (to check which given numbers were used).
    public let numbers: [Int]

    /// Longest input accepted, and deepest nesting: guards against pathological model output.
    public static let maxLength = 1_000, maxDepth = 64

    /// Parses and evaluates `text`; errors say what was wrong and where.
    public init(_ text: String) throws {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count <= Self.maxLength else {
            throw ArithmeticExpressionError("longer than \(Self.maxLength) characters")
        }
        var parser = Parser(scalars: scalars)
        let v = try parser.expression(depth: 0)
        parser.skipSpace()
        guard parser.position == scalars.count else {
            throw ArithmeticExpressionError("unexpected '\(Character(scalars[parser.position]))' at offset \(parser.position)")
        }
        value = v
        numbers = parser.numbers
    }

    private struct Parser {
        let scalars: [Unicode.Scalar]
        var position = 0
        var numbers: [Int] = []

        init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

        mutating func skipSpace() {
            while position < scalars.count, scalars[position].properties.isWhitespace { position += 1 }
        }

        /// The operator at the cursor, normalised to ASCII, without consuming it.
        mutating func peekOperator() -> Character? {
            skipSpace()
            guard position < scalars.count else { return nil }
            switch scalars[position] {
            case "+": return "+"
            case "-", "\u{2212}", "\u{2013}": return "-"
            case "*", "\u{00D7}", "\u{22C5}": return "*"
            case "/", "\u{00F7}": return "/"
            default: return nil
            }
        }

        mutating func expression(depth: Int) throws -> ExactRational {
            var left = try term(depth: depth)
            while let op = peekOperator(), op == "+" || op == "-" {
                position += 1
                let right = try term(depth: depth)
                guard let v = op == "+" ? left.adding(right) : left.subtracting(right) else {
                    throw ArithmeticExpressionError("the value overflows 64-bit integers")
                }
                left = v
            }
            return left
        }

        mutating func term(depth: Int) throws -> ExactRational {
            var left = try factor(depth: depth)
            while let op = peekOperator(), op == "*" || op == "/" {
                position += 1
                let right = try factor(depth: depth)
                if op == "/", right.numerator == 0 { throw ArithmeticExpressionError("division by zero") }
                guard let v = op == "*" ? left.multiplying(right) : left.dividing(by: right) else {
                    throw ArithmeticExpressionError("the value overflows 64-bit integers")
                }
                left = v
            }
            return left
        }

        mutating func factor(depth: Int) throws -> ExactRational {
            skipSpace()
            guard position < scalars.count else { throw ArithmeticExpressionError("ends where a number or '(' was expected") }
            let c = scalars[position]
            if c == "(" {
                guard depth < ArithmeticExpression.maxDepth else {
                    throw ArithmeticExpressionError("parentheses nested deeper than \(ArithmeticExpression.maxDepth)")
                }
                position += 1
                let v = try expression(depth: depth + 1)
                skipSpace()
                guard position < scalars.count, scalars[position] == ")" else {
                    throw ArithmeticExpressionError("missing ')' for the '(' it opened")
                }
                position += 1
                return v
            }
            guard c.properties.numericType == .decimal, c.isASCII else {
                throw ArithmeticExpressionError("expected a number or '(' at offset \(position), found '\(Character(c))'")
            }
            var n = 0
            while position < scalars.count, scalars[position].isASCII, scalars[position].properties.numericType == .decimal {
                let digit = Int(scalars[position].value) - 48
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(digit)
                guard !o1, !o2 else { throw ArithmeticExpressionError("a number is too large") }
                n = s
                position += 1
            }
            numbers.append(n)
            return ExactRational(n)
        }
    }
}

/// Why an arithmetic expression was rejected.
public struct ArithmeticExpressionError: Error, CustomStringConvertible, Equatable {
    /// What was wrong.
    public let description: String
    init(_ message: String) { description = message }
}
