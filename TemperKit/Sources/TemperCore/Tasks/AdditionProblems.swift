/// "What is 482 + 917?": addition of two `digits`-digit numbers, graded by `math-equiv`.
public struct AdditionProblems: VerifiableTask {
    /// Registered name.
    public static let name = "addition"
    /// One-line summary.
    public static let summary = "add two n-digit numbers"
    /// Operand size (1 digit means 0–9; n > 1 means 10^(n-1) to 10^n − 1, so sums fit 64 bits up to 18).
    public static let parameters: [ParameterSpec] = [
        .int("digits", default: 3, range: .closed(1, 18), doc: "digits of each operand"),
    ]

    let operands: ClosedRange<Int>

    /// Reads the options.
    public init(config: ComponentConfig) throws {
        operands = Self.operandRange(digits: try config.int("digits"))
    }

    /// The reward that grades answers: the final number must equal the sum.
    public var reward: String { "math-equiv" }

    /// Draws one sum.
    public func generate(_ random: inout TaskRandom) -> TaskExample {
        let a = random.int(in: operands), b = random.int(in: operands)
        let sum = String(a + b)
        return TaskExample(prompt: "What is \(a) + \(b)?", answer: .string(sum), solution: sum)
    }

    /// Every integer with exactly `digits` digits (0–9 for one digit).
    static func operandRange(digits: Int) -> ClosedRange<Int> {
        var upper = 1
        for _ in 0..<digits { upper *= 10 }
        return (digits == 1 ? 0 : upper / 10)...(upper - 1)
    }
}
