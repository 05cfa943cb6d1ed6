import Foundation

/// Completions to grade, read from a JSONL file (`temper reward --data`): each row holds
/// `completion` (a string, or a conversation whose last assistant message is graded), an optional
/// `prompt` (string or messages) and any columns the rewards read (`answer`, `nums`, ...).
/// `completion_ids` (a list of integers), when present, gives the completion's token ids.
public struct CompletionFile {
    /// 1-based line of each row in the file.
    public private(set) var lines: [Int] = []
    /// Prompt text per row: the string, or the message contents joined by blank lines; empty when absent.
    public private(set) var prompts: [String] = []
    /// Completion text per row.
    public private(set) var completions: [String] = []
    /// Token ids per row (empty where the row has none).
    public private(set) var tokenIDs: [[Int32]] = []
    /// Every other column; rows without it hold `null`.
    public private(set) var columns: [String: [ColumnValue]] = [:]
    /// Rows that could not be read, each naming its line and field, in file order. They are left
    /// out of the rows above, so one bad line does not cost the good ones their answers.
    public private(set) var invalidRows: [TrainingDataError] = []

    /// Number of rows.
    public var count: Int { completions.count }

    /// Reads `path`; blank lines are skipped, malformed rows are collected in `invalidRows`. Throws a
    /// `TrainingDataError` only when the file cannot be read or holds no row at all.
    public init(path: String) throws {
        try JSONLReader.forEachLine(path: path) { line in
            do { try line.row { try append($0, line: line.number) } } catch let e as TrainingDataError {
                invalidRows.append(e)
            }
        }
        guard count + invalidRows.count > 0 else { throw TrainingDataError(file: path, line: nil, field: nil, "holds no rows") }
    }

    /// The rows in `range` as one reward batch.
    public func batch(_ range: Range<Int>) -> RewardBatch {
        RewardBatch(prompts: Array(prompts[range]), completions: Array(completions[range]),
                    completionTokenIDs: Array(tokenIDs[range]), columns: columns.mapValues { Array($0[range]) })
    }

    private mutating func append(_ json: JSONValue, line: Int) throws {
        guard case .object(let row) = json else {
            throw RowError(field: nil, "expected a JSON object with a 'completion', got \(json.kindDescription)")
        }
        guard let completion = row["completion"] else {
            throw RowError(field: "completion", "missing: every row needs the completion to score")
        }
        let text: String
        switch completion {
        case .string(let s): text = s
        case .array:
            let messages = try DatasetRow.messages(completion, field: "completion")
            guard let last = messages.last(where: { $0.role == "assistant" }) else {
                throw RowError(field: "completion", "the conversation has no assistant message to score")
            }
            text = last.content
        default:
            throw RowError(field: "completion", "expected a string or a list of messages, got \(completion.kindDescription)")
        }
        var prompt = ""
        switch row["prompt"] {
        case nil, .null?: break
        case .string(let s)?: prompt = s
        case .array?: prompt = try DatasetRow.messages(row["prompt"]!, field: "prompt").map(\.content).joined(separator: "\n\n")
        case let other?: throw RowError(field: "prompt", "expected a string or a list of messages, got \(other.kindDescription)")
        }
        var ids: [Int32] = []
        if let raw = row["completion_ids"], raw != .null {
            guard case .array(let items) = raw else {
                throw RowError(field: "completion_ids", "expected a list of token ids, got \(raw.kindDescription)")
            }
            ids = try items.enumerated().map { i, item in
                guard case .int(let v) = item, let id = Int32(exactly: v), id >= 0 else {
                    throw RowError(field: "completion_ids[\(i)]", "expected a non-negative 32-bit integer, got \(item.kindDescription)")
                }
                return id
            }
        }
        // A column first seen now was null in the rows before.
        for (name, value) in row where !["completion", "prompt", "completion_ids"].contains(name) {
            if columns[name] == nil { columns[name] = Array(repeating: .null, count: count) }
            columns[name]!.append(ColumnValue(value))
        }
        lines.append(line)
        prompts.append(prompt)
        completions.append(text)
        tokenIDs.append(ids)
        for name in columns.keys where columns[name]!.count < count { columns[name]!.append(.null) }
    }
}
