/// "What is 37 * 84?": product of two `digits`-digit numbers, graded by `math-equiv`.
public struct MultiplicationProblems: VerifiableTask {
    /// Registered name.
    public static let name = "multiplication"
    /// One-line summary.
    public static let summary = "multiply two n-digit numbers"
    /// Operand size; products of two 9-digit numbers still fit 64 bits.
    public static let parameters: [ParameterSpec] = [
        .int("digits", default: 2, range: .closed(1, 9), doc: "digits of each operand"),
    ]

    let operands: ClosedRange<Int>

    /// Reads the options.
    public init(config: ComponentConfig) throws {
        operands = AdditionProblems.operandRange(digits: try config.int("digits"))
    }

    /// The reward that grades answers: the final number must equal the product.
    public var reward: String { "math-equiv" }

    /// Draws one product.
    public func generate(_ random: inout TaskRandom) -> TaskExample {
        let a = random.int(in: operands), b = random.int(in: operands)
        let product = String(a * b)
        return TaskExample(prompt: "What is \(a) * \(b)?", answer: .string(product), solution: product)
    }
}
