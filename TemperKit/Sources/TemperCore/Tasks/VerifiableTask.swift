/// A generator of prompts whose answers a program can check: the data for RL with verifiable
/// rewards, best-of-N and evaluation.
///
/// Each task declares its options like a component (`--digits 3` on `temper data make`), draws one
/// problem at a time from a `TaskRandom` (so a seed fixes the whole dataset on every platform), and
/// names the reward spec that grades completions against the columns it writes.
public protocol VerifiableTask {
    /// Name on the command line (`temper data make addition`).
    static var name: String { get }
    /// One-line summary for `temper data tasks`.
    static var summary: String { get }
    /// Options, checked like component parameters.
    static var parameters: [ParameterSpec] { get }
    /// Builds the task from validated options.
    init(config: ComponentConfig) throws
    /// The reward spec that checks completions of this task's prompts (`temper reward --reward ...`).
    var reward: String { get }
    /// Draws one problem.
    func generate(_ random: inout TaskRandom) -> TaskExample
}

/// One generated problem.
public struct TaskExample: Equatable, Sendable {
    /// The user's message.
    public var prompt: String
    /// The reference the task's reward checks against (the `answer` column).
    public var answer: ColumnValue
    /// Further columns the reward reads (`nums`, `target`), in the order they are written.
    public var columns: [TaskColumn]
    /// A completion that earns full reward: for tests, and as SFT targets (`--with-solution`).
    public var solution: String

    /// An example from parts.
    public init(prompt: String, answer: ColumnValue, columns: [TaskColumn] = [], solution: String) {
        self.prompt = prompt
        self.answer = answer
        self.columns = columns
        self.solution = solution
    }

    /// The value of column `name` (`answer` included), if the example has it.
    public func column(_ name: String) -> ColumnValue? {
        name == "answer" ? answer : columns.first { $0.name == name }?.value
    }
}

/// A named dataset cell of a generated example.
public struct TaskColumn: Equatable, Sendable {
    /// Column name.
    public var name: String
    /// Its value.
    public var value: ColumnValue

    /// A column from parts.
    public init(_ name: String, _ value: ColumnValue) {
        self.name = name
        self.value = value
    }
}
