import Foundation

/// Prompts to search from, read from a JSONL file (`temper search --data`, `temper eval --data`):
/// each row holds `prompt` (a string, or a list of messages) or `messages` (a conversation), and any
/// columns the verifier reads (`answer`, `nums`, ...): TRL's prompt-only shape, what `temper data
/// make` writes. A conversation's trailing assistant message is a reference, not part of the
/// prompt: it becomes the column `completion` (so `math-equiv:answer_column=completion` grades
/// against it), as a prompt-completion row's `completion` is.
public struct PromptFile {
    /// A row's prompt as written: plain text, or messages for the model's chat template.
    public enum Prompt: Equatable, Sendable {
        /// A string prompt.
        case text(String)
        /// A conversation to render with the chat template, the assistant's turn opened after it.
        case messages([ChatMessage])
    }

    /// 1-based line of each row in the file.
    public private(set) var lines: [Int] = []
    /// The prompt of each row.
    public private(set) var prompts: [Prompt] = []
    /// Every other column; rows without it hold `null`.
    public private(set) var columns: [String: [ColumnValue]] = [:]

    /// Number of rows.
    public var count: Int { prompts.count }

    /// Reads `path`; blank lines are skipped. A malformed row throws a `TrainingDataError` naming
    /// the file, line and field.
    public init(path: String) throws {
        try JSONLReader.forEachLine(path: path) { line in
            try line.row { try append($0, line: line.number) }
        }
        guard count > 0 else { throw TrainingDataError(file: path, line: nil, field: nil, "holds no rows") }
    }

    /// The columns of row `i` alone, each as a one-element list (a search request's shape).
    public func columns(ofRow i: Int) -> [String: [ColumnValue]] {
        columns.mapValues { [$0[i]] }
    }

    private mutating func append(_ json: JSONValue, line: Int) throws {
        guard case .object(var row) = json else {
            throw RowError(field: nil, "expected a JSON object with a 'prompt' or 'messages', got \(json.kindDescription)")
        }
        let shapes = ["prompt", "messages"].filter { row[$0] != nil }
        guard shapes.count == 1 else {
            throw RowError(field: nil, "a row needs exactly one of 'prompt' or 'messages'; found " +
                           (shapes.isEmpty ? "neither" : "both"))
        }
        let prompt: Prompt
        switch (shapes[0], row[shapes[0]]!) {
        case ("prompt", .string(let s)): prompt = .text(s)
        case (let field, .array):
            var messages = try DatasetRow.messages(row[field]!, field: field)
            if field == "messages", messages.count > 1, let last = messages.last, last.role == "assistant" {
                guard row["completion"] == nil else {
                    throw RowError(field: "completion", "a conversation ending with an assistant message already gives the completion")
                }
                messages.removeLast()
                row["completion"] = .string(last.content)
            }
            prompt = .messages(messages)
        case (let field, let other):
            throw RowError(field: field, "expected \(field == "prompt" ? "a string or " : "")a list of messages, got \(other.kindDescription)")
        }
        // A column first seen now was null in the rows before.
        for (name, value) in row where name != shapes[0] {
            if columns[name] == nil { columns[name] = Array(repeating: .null, count: count) }
            columns[name]!.append(ColumnValue(value))
        }
        lines.append(line)
        prompts.append(prompt)
        for name in columns.keys where columns[name]!.count < count { columns[name]!.append(.null) }
    }
}
