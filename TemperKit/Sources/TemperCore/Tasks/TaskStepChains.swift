import Foundation

/// Step-labelled rows for process reward models (`temper data make arithmetic-chain --steps`), in
/// TRL's stepwise shape: `prompt`, `completions` (the solution's steps, one per line of the
/// task's solution) and `labels` (one bool per step).
///
/// About half the chains (a seeded coin per row) are made wrong at one step drawn uniformly: its
/// result is moved by 1 to 5 either way (never below 0), and every later step carries on correctly
/// from the wrong value, so the only arithmetic error is at that step. As in PRM800K and
/// Math-Shepherd, a step is labelled correct only while the chain so far is: the wrong step and
/// every later one are false. The row's `first_wrong_step` column (0-based; -1 for a correct
/// chain) is what an evaluation of step flagging compares with.
public enum TaskStepChains {
    /// One JSONL line per example: `prompt` (a plain string), `completions`, `labels`,
    /// `first_wrong_step`, and the task's `answer`. The wrong steps are drawn from `seed`.
    public static func jsonl(_ examples: [TaskExample], seed: UInt64) throws -> String {
        var random = TaskRandom(seed: seed ^ 0x5354_4550)
        return try examples.map { e in
            let chain = try steps(e)
            let wrongAt = random.coin() ? random.int(in: 0...(chain.count - 1)) : nil
            let (texts, labels) = written(chain, wrongAt: wrongAt, &random)
            let fields = [("prompt", ColumnValue.string(e.prompt).json),
                          ("completions", "[" + texts.map { ColumnValue.string($0).json }.joined(separator: ",") + "]"),
                          ("labels", "[" + labels.map { $0 ? "true" : "false" }.joined(separator: ",") + "]"),
                          ("first_wrong_step", String(wrongAt ?? -1)), ("answer", e.answer.json)]
            return "{" + fields.map { ColumnValue.string($0.0).json + ":" + $0.1 }.joined(separator: ",") + "}\n"
        }.joined()
    }

    /// The operation of one step: `left op right` (its written result is what `written` decides).
    struct Step: Equatable {
        var left: Int, op: Character, right: Int
    }

    /// The steps of `e`'s solution, one per line, each `a + b = c` or `a - b = c`; an error names
    /// the line when the solution is not such a chain.
    static func steps(_ e: TaskExample) throws -> [Step] {
        let lines = e.solution.split(separator: "\n").map(String.init)
        guard !lines.isEmpty else { throw SpecError("--steps needs a task whose solution is a chain of steps; this solution is empty") }
        return try lines.map { line in
            let words = line.split(separator: " ").map(String.init)
            guard words.count == 5, let a = Int(words[0]), let b = Int(words[2]), words[3] == "=", Int(words[4]) != nil,
                  let op = words[1].first, words[1] == "+" || words[1] == "-" else {
                throw SpecError("--steps needs a task whose solution is a chain of 'a + b = c' / 'a - b = c' lines (arithmetic-chain); got the line '\(line)'")
            }
            return Step(left: a, op: op, right: b)
        }
    }

    /// The chain written out, its step `wrongAt` given a wrong result that later steps carry on
    /// from, with the labels (true before `wrongAt`, false from it on).
    static func written(_ chain: [Step], wrongAt: Int?, _ random: inout TaskRandom) -> ([String], [Bool]) {
        var texts: [String] = [], labels: [Bool] = []
        var carried = chain.first?.left ?? 0
        for (i, step) in chain.enumerated() {
            let right = step.op == "+" ? carried + step.right : carried - step.right
            var result = right
            if i == wrongAt {
                while result == right || result < 0 { result = right + random.int(in: -5...5) }
            }
            texts.append("\(carried) \(step.op) \(step.right) = \(result)")
            labels.append(wrongAt.map { i < $0 } ?? true)
            carried = result
        }
        return (texts, labels)
    }
}
