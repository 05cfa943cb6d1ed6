/// "what is 247 + 385?" answered as column addition, one line per column from the ones up: the
/// column's digits plus the carry from the line before, their total, then the digits of the sum
/// found so far (the new one in front), and finally the sum: a verifiable task whose answer comes
/// after a short worked chain, so sampled solutions differ in their steps and a majority vote
/// over their final answers (self-consistency) has something to correct. Graded by `math-equiv`
/// (the last number: the one after "answer:").
///
///     7+5=12 so 2
///     4+8+1=13 so 32
///     2+3+1=6 so 632
///     answer: 632
///
/// Each line's result extends the one above, so the answer is a copy, not a reassembly of digits
/// scattered over the chain (which a small model learns far more slowly).
/// Everything is lower-case digits, letters and `+=:?` so the quickstart's character tokenizer
/// spells it exactly.
public struct LongAdditionProblems: VerifiableTask {
    /// Registered name.
    public static let name = "long-addition"
    /// One-line summary.
    public static let summary = "add two n-digit numbers, written column by column with carries before the answer"
    /// Operand size, as `addition`'s.
    public static let parameters: [ParameterSpec] = [
        .int("digits", default: 3, range: .closed(1, 18), doc: "digits of each operand"),
    ]

    let operands: ClosedRange<Int>

    /// Reads the options.
    public init(config: ComponentConfig) throws {
        operands = AdditionProblems.operandRange(digits: try config.int("digits"))
    }

    /// The reward that grades answers: the final number must equal the sum.
    public var reward: String { "math-equiv" }

    /// Draws one sum and writes its worked solution.
    public func generate(_ random: inout TaskRandom) -> TaskExample {
        let a = random.int(in: operands), b = random.int(in: operands)
        return TaskExample(prompt: "what is \(a) + \(b)?", answer: .string(String(a + b)), solution: Self.worked(a, b))
    }

    /// The column-by-column solution of a + b (both ≥ 0): each line adds one column's digits and
    /// the carry from the line before ("+1") and puts the total's last digit (the whole total, in
    /// the last column) in front of the digits so far; the last line states the sum. With
    /// `droppingFinalCarry` the last column, too, keeps only its total's last digit — the carry out
    /// of the top column is lost and the last line states the digits so far, a wrong sum.
    static func worked(_ a: Int, _ b: Int, droppingFinalCarry: Bool = false) -> String {
        let x = Array(String(a).utf8.reversed()).map { Int($0 - 48) }, y = Array(String(b).utf8.reversed()).map { Int($0 - 48) }
        let columns = max(x.count, y.count)
        var lines: [String] = []
        var carry = 0, digits = ""
        for column in 0..<columns {
            let p = column < x.count ? x[column] : 0, q = column < y.count ? y[column] : 0
            let total = p + q + carry
            digits = (column == columns - 1 && !droppingFinalCarry ? String(total) : String(total % 10)) + digits
            lines.append("\(p)+\(q)" + (carry > 0 ? "+\(carry)" : "") + "=\(total) so \(digits)")
            carry = total / 10
        }
        return (lines + ["answer: \(digits)"]).joined(separator: "\n")
    }
}

extension LongAdditionProblems: FlawedDemonstrations {
    /// A classic slip of column addition.
    public var flaw: String { "the final carry dropped" }

    /// The worked solution with the carry out of the top column dropped (`so 173` and `answer: 173`
    /// for 826 + 347), or nil when the sum has no such carry or the prompt is not this task's.
    public func flawed(_ example: TaskExample) -> TaskExample? {
        let operands = example.prompt.split { !$0.isNumber }.compactMap { Int($0) }
        guard operands.count == 2 else { return nil }
        let (a, b) = (operands[0], operands[1])
        guard String(a + b).count > max(String(a).count, String(b).count) else { return nil }
        var out = example
        out.solution = Self.worked(a, b, droppingFinalCarry: true)
        return out
    }
}
