import Foundation
import TemperCore

/// The Countdown verifier: 1 when the completion's expression uses the given numbers as the rules
/// require and evaluates exactly to the target; `format_score` when an answer was given but is
/// wrong; 0 when there is no answer. nil for rows without a target or numbers.
///
/// Scoring follows TinyZero's Countdown reward (1 for a correct equation, 0.1 for a wrong one in
/// the answer tags, 0 for none; each number used exactly once), with exact rational arithmetic in
/// place of Python's float `eval`, so `(7 / 3) * 3` is exactly 7 and no tolerance is needed.
public struct CountdownReward: RewardFunction {
    /// Registered name.
    public static let name = "countdown"
    /// One-line summary for `temper plugins`.
    public static let summary = "1 if the completion's expression reaches the target using the given numbers (Countdown), else format_score or 0"
    /// Columns, partial credit and rules.
    public static let parameters: [ParameterSpec] = [
        .string("target_column", default: "target", doc: "dataset column holding the target number"),
        .string("numbers_column", default: "nums", aliases: ["nums_column"], doc: "dataset column holding the list of given numbers"),
        .float("format_score", default: 0.1, range: .closed(0, 1),
               doc: "score for an answer that was found but is wrong or breaks the rules (TinyZero uses 0.1)"),
        .bool("use_all", default: true, doc: "every given number must be used exactly once (TinyZero); false allows leaving some out, as on the TV show"),
        .bool("require_tags", default: false, doc: "read the answer only from <answer> tags; otherwise an untagged completion's last line is tried"),
    ]

    let targetColumn: String
    let numbersColumn: String
    let formatScore: Float
    let useAll: Bool
    let requireTags: Bool

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        targetColumn = try config.string("target_column")
        numbersColumn = try config.string("numbers_column")
        formatScore = try config.float("format_score")
        useAll = try config.bool("use_all")
        requireTags = try config.bool("require_tags")
    }

    /// One score per completion; a missing column or a cell that is not a number / list of
    /// integers is an error naming the row.
    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        let targets = try batch.column(targetColumn, for: Self.name)
        let numbers = try batch.column(numbersColumn, for: Self.name)
        return try batch.completions.indices.map { i in
            guard targets[i] != .null, numbers[i] != .null else { return nil }
            guard let target = Self.integer(targets[i]) else {
                throw SpecError("\(Self.name): row \(i): column '\(targetColumn)' must be an integer, got \(targets[i].json)")
            }
            guard let given = Self.integers(numbers[i]) else {
                throw SpecError("\(Self.name): row \(i): column '\(numbersColumn)' must be a list of integers, got \(numbers[i].json)")
            }
            return grade(batch.completions[i], target: target, numbers: given)
        }
    }

    /// The score of one completion.
    func grade(_ completion: String, target: Int, numbers: [Int]) -> Float {
        guard let (text, tagged) = Self.extract(completion, requireTags: requireTags) else { return 0 }
        guard let expression = try? ArithmeticExpression(text) else { return tagged ? formatScore : 0 }
        guard Self.uses(expression.numbers, of: numbers, all: useAll) else { return formatScore }
        return expression.value == ExactRational(target) ? 1 : formatScore
    }

    /// The expression to grade and whether it came from `<answer>` tags: the last tagged answer,
    /// else (unless tags are required) the last non-empty line. The left side of `expr = target` is kept.
    static func extract(_ completion: String, requireTags: Bool) -> (String, Bool)? {
        var candidate: Substring?
        var tagged = false
        if let open = completion.range(of: "<answer>", options: .backwards),
           let close = completion.range(of: "</answer>", range: open.upperBound..<completion.endIndex) {
            candidate = completion[open.upperBound..<close.lowerBound]
            tagged = true
        } else if !requireTags, let line = completion.split(whereSeparator: \.isNewline).last(where: { !$0.allSatisfy(\.isWhitespace) }) {
            var text = line.trimmingCharacters(in: .whitespaces)
            if text.hasSuffix(".") { text.removeLast() }   // "... = 24." ends a sentence
            candidate = Substring(text)
        }
        guard var text = candidate else { return nil }
        if let eq = text.firstIndex(of: "=") { text = text[..<eq] }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : (trimmed, tagged)
    }

    /// Whether `used` takes each given number at most once, and every one of them when `all`.
    static func uses(_ used: [Int], of given: [Int], all: Bool) -> Bool {
        var left: [Int: Int] = [:]
        for n in given { left[n, default: 0] += 1 }
        for n in used {
            guard let k = left[n], k > 0 else { return false }
            left[n] = k - 1
        }
        return !all || left.values.allSatisfy { $0 == 0 }
    }

    /// A list cell of integers, nil if any element is not one.
    static func integers(_ cell: ColumnValue) -> [Int]? {
        guard case .array(let cells) = cell else { return nil }
        let values = cells.compactMap(integer)
        return values.count == cells.count ? values : nil
    }

    /// An integer cell: a whole number, or a string holding one.
    static func integer(_ cell: ColumnValue) -> Int? {
        switch cell {
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? Int(d) : nil
        case .string(let s): return Int(s.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }
}
