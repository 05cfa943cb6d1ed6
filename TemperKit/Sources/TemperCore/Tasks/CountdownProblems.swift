/// Countdown: reach a target by combining every given number exactly once with + − × ÷, graded
/// by the `countdown` reward (TinyZero's rules: the answer must use each number exactly once and
/// evaluate to the target).
///
/// A problem is made by building a random expression over the drawn numbers whose intermediate
/// values are all positive integers no larger than `max_target`, and taking its value as the
/// target, so every problem has at least one solution (the one kept in `solution`).
public struct CountdownProblems: VerifiableTask {
    /// Registered name.
    public static let name = "countdown"
    /// One-line summary.
    public static let summary = "reach a target from given numbers with + - * /"
    /// How many numbers, how large, and how large the target may be.
    public static let parameters: [ParameterSpec] = [
        .int("count", default: 4, range: .closed(2, 8), doc: "how many numbers are given"),
        .int("max_number", default: 100, range: .closed(1, 10_000), doc: "numbers are drawn from 1 to this"),
        .int("max_target", default: 1000, range: .closed(1, 1_000_000), doc: "largest target (and intermediate value); at least max_number"),
    ]

    let count: Int
    let maxNumber: Int
    let maxTarget: Int

    /// Reads the options.
    public init(config: ComponentConfig) throws {
        count = try config.int("count")
        maxNumber = try config.int("max_number")
        maxTarget = try config.int("max_target")
        guard maxTarget >= maxNumber else {
            throw SpecError("countdown: max_target (\(maxTarget)) must be at least max_number (\(maxNumber))")
        }
    }

    /// The Countdown verifier.
    public var reward: String { "countdown" }

    /// Draws one problem.
    public func generate(_ random: inout TaskRandom) -> TaskExample {
        let numbers = (0..<count).map { _ in random.int(in: 1...maxNumber) }
        // Combine two random terms at a time until one expression is left. Some operation is always
        // valid: a − b when a ≠ b (positive, below a), a ÷ b = 1 when a = b.
        var terms = numbers.map { (value: $0, text: String($0)) }
        while terms.count > 1 {
            let i = random.int(in: 0...(terms.count - 1))
            let a = terms.remove(at: i)
            let j = random.int(in: 0...(terms.count - 1))
            let b = terms.remove(at: j)
            let (hi, lo) = a.value >= b.value ? (a, b) : (b, a)
            var options: [(value: Int, text: String)] = []
            if a.value + b.value <= maxTarget { options.append((a.value + b.value, "\(a.text) + \(b.text)")) }
            if hi.value > lo.value { options.append((hi.value - lo.value, "\(hi.text) - \(lo.text)")) }
            if a.value * b.value <= maxTarget { options.append((a.value * b.value, "\(a.text) * \(b.text)")) }
            if hi.value % lo.value == 0 { options.append((hi.value / lo.value, "\(hi.text) / \(lo.text)")) }
            let chosen = random.pick(options)
            // Every stored term is a literal or wholly parenthesised, so operators never bind into it.
            terms.append((chosen.value, terms.isEmpty ? chosen.text : "(\(chosen.text))"))
        }
        let target = terms[0].value
        let listed = numbers.map(String.init).joined(separator: ", ")
        let prompt = "Make \(target) from the numbers \(listed). Use each number exactly once, combined with +, -, * and / " +
            "and parentheses as needed. Think it through inside <think> </think>, then give only the expression inside " +
            "<answer> </answer>, for example <answer>(1 + 2) * 3</answer>."
        return TaskExample(prompt: prompt, answer: .number(Double(target)),
                           columns: [TaskColumn("target", .number(Double(target))),
                                     TaskColumn("nums", .array(numbers.map { .number(Double($0)) }))],
                           solution: "<answer>\(terms[0].text)</answer>")
    }
}
