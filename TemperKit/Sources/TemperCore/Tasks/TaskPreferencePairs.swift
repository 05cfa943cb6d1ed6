import Foundation

/// Preference rows from a verifiable task (`temper data make --preference`): chosen = a solution
/// that earns full reward, rejected = the same solution made wrong in its answer only — an integer
/// answer moved by 1 to 5 either way (never below 0), or two neighbours of a list answer (sorting)
/// swapped — so the pair differs exactly where correctness does.
public enum TaskPreferencePairs {
    /// One JSONL line per example in TRL's preference shape — `prompt` (a one-message conversation,
    /// or a plain string when `plain`), `chosen`, `rejected` (assistant messages, or plain strings) —
    /// followed by the task's `answer` and other columns. The wrong answers are drawn from `seed`.
    public static func jsonl(_ examples: [TaskExample], seed: UInt64, plain: Bool = false) throws -> String {
        var random = TaskRandom(seed: seed ^ 0x5052_4546)
        return try examples.map { e in
            let rejected = try wrongSolution(e, &random)
            func side(_ text: String) -> String {
                plain ? ColumnValue.string(text).json : #"[{"role":"assistant","content":\#(ColumnValue.string(text).json)}]"#
            }
            let prompt = ColumnValue.string(e.prompt).json
            var fields = [("prompt", plain ? prompt : #"[{"role":"user","content":\#(prompt)}]"#), ("chosen", side(e.solution)),
                          ("rejected", side(rejected)), ("answer", e.answer.json)]
            fields += e.columns.map { ($0.name, $0.value.json) }
            return "{" + fields.map { ColumnValue.string($0.0).json + ":" + $0.1 }.joined(separator: ",") + "}\n"
        }.joined()
    }

    /// The solution with its answer made wrong, or an error for a task whose answers are neither
    /// integers nor lists of numbers.
    static func wrongSolution(_ e: TaskExample, _ random: inout TaskRandom) throws -> String {
        let answer = e.answer.text
        guard let range = e.solution.range(of: answer, options: .backwards) else {
            throw SpecError("--preference: the solution '\(e.solution)' does not contain its answer '\(answer)'")
        }
        let wrong: String
        if let value = Int(answer) {
            var w = value
            while w == value || w < 0 { w = value + random.int(in: -5...5) }
            wrong = String(w)
        } else {
            var items = answer.split(separator: " ").map(String.init)
            let swappable = items.indices.dropLast().filter { items[$0] != items[$0 + 1] }
            guard items.count >= 2, items.allSatisfy({ Int($0) != nil }), !swappable.isEmpty else {
                throw SpecError("--preference needs a task with integer or number-list answers; this task's answer '\(answer)' is neither")
            }
            let i = swappable[random.int(in: 0...(swappable.count - 1))]
            items.swapAt(i, i + 1)
            wrong = items.joined(separator: " ")
        }
        return e.solution.replacingCharacters(in: range, with: wrong)
    }
}
