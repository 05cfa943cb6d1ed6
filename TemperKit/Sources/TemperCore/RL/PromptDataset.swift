import Foundation

/// One prompt of an on-policy dataset, tokenized, with the columns its rewards read.
public struct PromptExample: Equatable {
    /// 1-based line in the file (for messages about this row).
    public var line: Int
    /// The prompt as the model sees it: the text, or the conversation rendered by the chat template
    /// with the assistant's generation header. Rewards receive this text.
    public var text: String
    /// Its token ids (left-truncated to `max_prompt_length`).
    public var ids: [Int32]
    /// Every other column of the row (`answer`, `nums`, `target`, `tests`, ...), as JSON keeps it.
    public var columns: [String: ColumnValue]
    /// The conversation as the file holds it, nil for a text prompt (STaR's rationalization edits it).
    public var messages: [ChatMessage]? = nil
}

/// Prompt-only data in TRL's shapes, the input of on-policy training: each JSONL row has `prompt`,
/// a string or a list of `{role, content}` messages, and any further columns, which reach the
/// reward functions by name.
///
/// A string prompt is tokenized as it is, without special tokens (as TRL's GRPOTrainer does); a
/// conversational one is rendered with the tokenizer's chat template and the assistant's
/// generation header. A prompt longer than `max_prompt_length` keeps its last tokens (TRL truncates
/// on the left, so the question and the generation header survive). Rows without a column other
/// rows have get `null` there.
public struct PromptDataset {
    /// The prompts, in file order.
    public var examples: [PromptExample]
    /// The file they came from.
    public var file: String
    /// Malformed rows skipped (`skip_invalid_rows`).
    public var skippedRows: Int
    /// Prompts cut to `max_prompt_length`.
    public var truncatedPrompts: Int

    /// Reads `path`. A malformed row is a `TrainingDataError` naming the file, line and field,
    /// unless `skipInvalidRows`, when it is counted and left out.
    public static func load(path: String, tokenizer: Tokenizer, maxPromptLength: Int? = nil,
                            skipInvalidRows: Bool = false) throws -> PromptDataset {
        var result = PromptDataset(examples: [], file: path, skippedRows: 0, truncatedPrompts: 0)
        try JSONLReader.forEachLine(path: path) { line in
            do {
                var example = try line.row { try parse($0, line: line.number, tokenizer: tokenizer) }
                if let max = maxPromptLength, example.ids.count > max {
                    example.ids = Array(example.ids.suffix(max))
                    result.truncatedPrompts += 1
                }
                result.examples.append(example)
            } catch let e as TrainingDataError {
                guard skipInvalidRows else { throw e }
                result.skippedRows += 1
            }
        }
        guard !result.examples.isEmpty else {
            throw TrainingDataError(file: path, line: nil, field: nil,
                                    result.skippedRows > 0 ? "all \(result.skippedRows) rows are malformed" : "holds no rows")
        }
        let names = Set(result.examples.flatMap(\.columns.keys))
        for i in result.examples.indices {
            for name in names where result.examples[i].columns[name] == nil { result.examples[i].columns[name] = .null }
        }
        return result
    }

    /// Names of the extra columns.
    public var columnNames: [String] { examples.first.map { $0.columns.keys.sorted() } ?? [] }

    private static func parse(_ json: JSONValue, line: Int, tokenizer: Tokenizer) throws -> PromptExample {
        guard case .object(let row) = json else {
            throw RowError(field: nil, "expected a JSON object with a 'prompt' (a string or a list of messages), got \(json.kindDescription)")
        }
        guard let prompt = row["prompt"] else {
            throw RowError(field: "prompt", "missing: on-policy training needs a prompt per row (a string or a list of {role, content} messages)")
        }
        let text: String, ids: [Int32]
        var conversation: [ChatMessage]? = nil
        switch prompt {
        case .string(let s):
            text = s
            ids = tokenizer.encode(s, parseSpecialTokens: false)
        case .array:
            let messages = try DatasetRow.messages(prompt, field: "prompt")
            conversation = messages
            do {
                text = try tokenizer.applyChatTemplate(messages, addGenerationPrompt: true)
                ids = try tokenizer.encodeChat(messages, addGenerationPrompt: true)
            } catch let e as TokenizerError {
                throw RowError(field: "prompt", "cannot be rendered with the model's chat template: \(e)")
            }
        default:
            throw RowError(field: "prompt", "expected a string or a list of messages, got \(prompt.kindDescription)")
        }
        guard !ids.isEmpty else { throw RowError(field: "prompt", "is empty: generation needs at least one prompt token") }
        var columns: [String: ColumnValue] = [:]
        for (name, value) in row where name != "prompt" { columns[name] = ColumnValue(value) }
        return PromptExample(line: line, text: text, ids: ids, columns: columns, messages: conversation)
    }
}
