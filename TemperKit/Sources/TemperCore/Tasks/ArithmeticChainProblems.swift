/// "Compute 7 + 5 - 3 + 9 from left to right.": a chain of `operations` additions and
/// subtractions of one-to-`max_value` numbers, solved one operation a line ("7 + 5 = 12",
/// "12 - 3 = 9", "9 + 9 = 18"), graded by `math-equiv` on the final number. Its solutions are the
/// step chains `temper data make arithmetic-chain --steps` labels for process reward models.
public struct ArithmeticChainProblems: VerifiableTask {
    /// Registered name.
    public static let name = "arithmetic-chain"
    /// One-line summary.
    public static let summary = "add and subtract a chain of small numbers, one step a line"
    /// Chain length and operand size.
    public static let parameters: [ParameterSpec] = [
        .int("operations", default: 3, range: .closed(1, 12), doc: "additions and subtractions in the chain (one solution step each)"),
        .int("max_value", default: 9, range: .closed(1, 1_000_000), doc: "largest operand (operands are 1 to max_value)"),
    ]

    let operations: Int
    let maxValue: Int

    /// Reads the options.
    public init(config: ComponentConfig) throws {
        operations = try config.int("operations")
        maxValue = try config.int("max_value")
    }

    /// The reward that grades answers: the final number must equal the chain's value.
    public var reward: String { "math-equiv" }

    /// Draws one chain; a subtraction that would go below 0 is drawn as an addition, so every
    /// intermediate value is a natural number.
    public func generate(_ random: inout TaskRandom) -> TaskExample {
        var value = random.int(in: 1...maxValue)
        var expression = String(value), steps: [String] = []
        for _ in 0..<operations {
            let operand = random.int(in: 1...maxValue)
            let subtract = random.coin() && operand <= value
            let next = subtract ? value - operand : value + operand
            let op = subtract ? "-" : "+"
            expression += " \(op) \(operand)"
            steps.append("\(value) \(op) \(operand) = \(next)")
            value = next
        }
        return TaskExample(prompt: "Compute \(expression) from left to right.", answer: .string(String(value)),
                           solution: steps.joined(separator: "\n"))
    }
}
