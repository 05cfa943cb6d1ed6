/// "Sort 42 7 19 ...": order a list of non-negative integers, graded by exact match of the list
/// with punctuation ignored (so `3, 7, 19` and `[3 7 19]` both match `3 7 19`).
///
/// Numbers are non-negative because the grader drops punctuation, minus signs included.
public struct SortingProblems: VerifiableTask {
    /// Registered name.
    public static let name = "sorting"
    /// One-line summary.
    public static let summary = "sort a list of integers"
    /// List length, value range and direction.
    public static let parameters: [ParameterSpec] = [
        .int("length", default: 5, range: .closed(2, 100), doc: "how many numbers to sort"),
        .int("max_value", default: 99, range: .closed(1, 1_000_000_000), doc: "numbers are drawn from 0 to this"),
        .bool("descending", default: false, doc: "ask for largest first"),
    ]

    let length: Int
    let maxValue: Int
    let descending: Bool

    /// Reads the options.
    public init(config: ComponentConfig) throws {
        length = try config.int("length")
        maxValue = try config.int("max_value")
        descending = try config.bool("descending")
    }

    /// Exact match of the normalised list.
    public var reward: String { "exact-match:ignore_punctuation=true" }

    /// Draws one list.
    public func generate(_ random: inout TaskRandom) -> TaskExample {
        let numbers = (0..<length).map { _ in random.int(in: 0...maxValue) }
        let sorted = numbers.sorted(by: descending ? (>) : (<))
        let answer = sorted.map(String.init).joined(separator: " ")
        let order = descending ? "descending (largest first)" : "ascending (smallest first)"
        let prompt = "Sort these numbers in \(order) order: \(numbers.map(String.init).joined(separator: ", ")). " +
            "Reply with only the sorted numbers, separated by spaces."
        return TaskExample(prompt: prompt, answer: .string(answer), solution: answer)
    }
}
