/// Word problems of one operation on small numbers ("Ava has 12 stickers. Ava gets 5 more
/// stickers. How many stickers does Ava have now?"), graded by `math-equiv`.
///
/// `word-problems` takes two or three steps with numbers up to a few hundred, which a 135M model
/// (SmolLM2-135M-Instruct) almost never solves: its greedy answers wander until the token cap, so
/// search has nothing to choose between. One addition, subtraction, multiplication or exact
/// division with no number above `max` puts such a model's greedy accuracy in the tens of
/// percent, where sampling several answers and voting or verifying can show an effect.
///
/// The prompt is the question alone. On SmolLM2-135M-Instruct, asking for a final line ("end with
/// 'The answer is N.'") made it copy the placeholder or answer at once without the calculation,
/// and greedy accuracy fell (on 24 problems: 10 correct with no instruction, 7 asking to write the
/// calculation first, 6 asking for 'The answer is' + the number); `math-equiv` reads an
/// "answer is" line when there is one and the last number otherwise.
public struct OneStepWordProblems: VerifiableTask {
    /// Registered name.
    public static let name = "one-step-word-problems"
    /// One-line summary.
    public static let summary = "word problems of one +, -, * or / on small numbers"
    /// The size of the numbers.
    public static let parameters: [ParameterSpec] = [
        .int("max", default: 20, range: .closed(4, 1000),
             doc: "largest sum, number subtracted from, product or dividend (factors and quotients stay at most 9)"),
    ]

    let largest: Int

    /// Reads the options.
    public init(config: ComponentConfig) throws {
        largest = try config.int("max")
    }

    /// The final number must equal the answer.
    public var reward: String { "math-equiv" }

    /// Draws an operation, its numbers and a phrasing.
    public func generate(_ random: inout TaskRandom) -> TaskExample {
        let name = random.pick(WordProblemTemplate.names)
        let item = random.pick(["apples", "stickers", "marbles", "pencils", "cards", "books", "shells", "coins"])
        let question: String, equation: String, result: Int
        let factorCap = max(2, min(9, largest / 2))
        switch random.int(in: 0...3) {
        case 0:
            let a = random.int(in: 1...(largest - 1)), b = random.int(in: 1...(largest - a))
            result = a + b
            equation = "\(a) + \(b) = \(result)"
            question = random.coin()
                ? "\(name) has \(a) \(item). \(name) gets \(b) more \(item). How many \(item) does \(name) have now?"
                : "There are \(a) \(item) in a box and \(b) \(item) on the table. How many \(item) are there in all?"
        case 1:
            let a = random.int(in: 2...largest), b = random.int(in: 1...(a - 1))
            result = a - b
            equation = "\(a) - \(b) = \(result)"
            question = random.coin()
                ? "\(name) has \(a) \(item). \(name) gives \(b) \(item) to a friend. How many \(item) does \(name) have left?"
                : "\(name) had \(a) \(item) and lost \(b) of them. How many \(item) does \(name) have now?"
        case 2:
            let a = random.int(in: 2...factorCap), b = random.int(in: 2...max(2, min(factorCap, largest / a)))
            result = a * b
            equation = "\(a) * \(b) = \(result)"
            question = random.coin()
                ? "\(name) has \(a) bags with \(b) \(item) in each bag. How many \(item) does \(name) have?"
                : "\(name) buys \(a) packs of \(item). Each pack has \(b) \(item). How many \(item) does \(name) buy?"
        default:
            let friends = random.int(in: 2...factorCap), each = random.int(in: 1...max(1, min(factorCap, largest / friends)))
            let total = friends * each
            result = each
            equation = "\(total) / \(friends) = \(each)"
            question = "\(name) shares \(total) \(item) equally among \(friends) friends. How many \(item) does each friend get?"
        }
        return TaskExample(prompt: question, answer: .string(String(result)),
                           solution: "\(equation).\nThe answer is \(result).")
    }
}
