import Foundation

/// Which part of a task's problem space a dataset is drawn from.
public enum TaskSplit: String, CaseIterable, Sendable {
    case train, test

    /// The split a problem belongs to, fixed by its prompt alone: a stable hash (64-bit FNV-1a of
    /// the UTF-8 text) puts one problem in ten in `test`. Membership does not depend on the seed or
    /// on how many problems are asked for, so a train file and a test file never share a problem,
    /// whatever seeds and sizes made them.
    public static func of(prompt: String) -> TaskSplit {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in prompt.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash % 10 == 0 ? .test : .train
    }
}

/// A seeded, duplicate-free set of problems from one task and split, and its JSONL form.
public enum TaskDataset {
    /// Draws that may pass without a new problem before generation gives up: the split of the
    /// problem space is nearly exhausted.
    public static let patience = 100_000

    /// `count` distinct problems of `split`, drawn in order from the stream for `seed`.
    public static func generate(_ task: any VerifiableTask, count: Int, seed: UInt64, split: TaskSplit) throws -> [TaskExample] {
        guard count >= 1 else { throw SpecError("the number of problems must be at least 1, got \(count)") }
        var random = TaskRandom(seed: seed)
        var seen = Set<String>()
        var out: [TaskExample] = []
        out.reserveCapacity(count)
        var misses = 0
        while out.count < count {
            let example = task.generate(&random)
            if TaskSplit.of(prompt: example.prompt) == split, seen.insert(example.prompt).inserted {
                out.append(example)
                misses = 0
            } else {
                misses += 1
                if misses >= patience {
                    throw SpecError("\(type(of: task).name): found only \(out.count) distinct \(split.rawValue) problems with these options " +
                                    "(\(patience) draws in a row gave nothing new); ask for fewer or allow larger numbers")
                }
            }
        }
        return out
    }

    /// One JSONL line in TRL's prompt-only shape: `prompt` (a one-message conversation, or a
    /// plain string when `plain`), then `answer`, the task's other columns, and `solution` when
    /// asked for.
    public static func jsonLine(_ example: TaskExample, plain: Bool = false, withSolution: Bool = false) -> String {
        let content = ColumnValue.string(example.prompt).json
        var fields = [("prompt", plain ? content : #"[{"role":"user","content":\#(content)}]"#),
                      ("answer", example.answer.json)]
        fields += example.columns.map { ($0.name, $0.value.json) }
        if withSolution { fields.append(("solution", ColumnValue.string(example.solution).json)) }
        return "{" + fields.map { ColumnValue.string($0.0).json + ":" + $0.1 }.joined(separator: ",") + "}"
    }

    /// The examples as JSONL text, one line each.
    public static func jsonl(_ examples: [TaskExample], plain: Bool = false, withSolution: Bool = false) -> String {
        examples.map { jsonLine($0, plain: plain, withSolution: withSolution) + "\n" }.joined()
    }
}
