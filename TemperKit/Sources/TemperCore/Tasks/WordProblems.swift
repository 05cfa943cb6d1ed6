/// Short templated word problems answered in GSM8K's format: the `answer` column is a worked
/// solution with `<<a*b=c>>` calculator annotations ending in `#### 42`, graded by `math-equiv`
/// (which reads the number after `####` from the reference and the final answer from the
/// completion).
///
/// Numbers are drawn so every step stays a non-negative integer, as in GSM8K.
public struct WordProblems: VerifiableTask {
    /// Registered name.
    public static let name = "word-problems"
    /// One-line summary.
    public static let summary = "templated grade-school word problems with GSM8K-style answers (#### 42)"
    /// No options: the templates fix the size of the numbers.
    public static let parameters: [ParameterSpec] = []

    /// Nothing to read.
    public init(config: ComponentConfig) throws {}

    /// The final number must equal the one after `####`.
    public var reward: String { "math-equiv" }

    /// Draws a template and fills it.
    public func generate(_ random: inout TaskRandom) -> TaskExample {
        let template = random.pick(WordProblemTemplate.all)
        let filled = template.fill(&random)
        let steps = filled.steps.joined(separator: "\n")
        let solution = steps + "\n#### \(filled.result)"
        return TaskExample(prompt: filled.question + " End with the final answer on its own line as '#### <number>'.",
                           answer: .string(solution), solution: solution)
    }
}
