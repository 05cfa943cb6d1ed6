import TemperModels

/// One row of a dataset in one of TRL's shapes, before tokenization.
public enum DatasetRow: Equatable {
    /// `{"text": ...}`: language modelling on the whole text.
    case text(String)
    /// `{"messages": [{role, content}, ...]}`: a conversation.
    case conversation([ChatMessage])
    /// `{"prompt": "...", "completion": "..."}`: plain prompt and completion.
    case promptCompletion(prompt: String, completion: String)
    /// `{"prompt": [messages], "completion": [messages]}`: conversational prompt and completion.
    case conversationalPromptCompletion(prompt: [ChatMessage], completion: [ChatMessage])

    /// Reads a row from a parsed JSON line. Errors name the field; the caller adds file and line.
    ///
    /// Keys other than the ones a shape uses are allowed (datasets often carry ids or metadata),
    /// but a row must match exactly one shape.
    static func parse(_ json: JSONValue) throws -> DatasetRow {
        guard let object = json.objectValue else {
            throw RowError(field: nil, "expected a JSON object with 'text', 'messages' or 'prompt' + 'completion', got \(json.kindDescription)")
        }
        let shapes = ["text", "messages", "prompt"].filter { object[$0] != nil }
        guard shapes.count == 1 else {
            let found = shapes.isEmpty ? "none of them" : shapes.joined(separator: " and ")
            throw RowError(field: nil, "a row needs exactly one of 'text', 'messages' or 'prompt' + 'completion'; found \(found)")
        }
        switch shapes[0] {
        case "text":
            guard let text = object["text"]!.stringValue else { throw RowError(field: "text", "expected a string, got \(object["text"]!.kindDescription)") }
            return .text(text)
        case "messages":
            return .conversation(try messages(object["messages"]!, field: "messages"))
        default:
            guard let completion = object["completion"] else {
                throw RowError(field: "completion", "missing: a row with 'prompt' also needs 'completion'")
            }
            let prompt = object["prompt"]!
            if let p = prompt.stringValue {
                guard let c = completion.stringValue else {
                    throw RowError(field: "completion", "expected a string like 'prompt', got \(completion.kindDescription)")
                }
                return .promptCompletion(prompt: p, completion: c)
            }
            guard prompt.arrayValue != nil else {
                throw RowError(field: "prompt", "expected a string or a list of messages, got \(prompt.kindDescription)")
            }
            guard completion.arrayValue != nil else {
                throw RowError(field: "completion", "expected a list of messages like 'prompt', got \(completion.kindDescription)")
            }
            let c = try messages(completion, field: "completion")
            return .conversationalPromptCompletion(prompt: try messages(prompt, field: "prompt"), completion: c)
        }
    }

    static func messages(_ json: JSONValue, field: String) throws -> [ChatMessage] {
        guard let items = json.arrayValue else { throw RowError(field: field, "expected a list of messages, got \(json.kindDescription)") }
        guard !items.isEmpty else { throw RowError(field: field, "the list of messages is empty") }
        return try items.enumerated().map { i, item in
            let here = "\(field)[\(i)]"
            guard let m = item.objectValue else { throw RowError(field: here, "expected an object with 'role' and 'content', got \(item.kindDescription)") }
            guard let roleValue = m["role"] else { throw RowError(field: "\(here).role", "missing") }
            guard let role = roleValue.stringValue, !role.isEmpty else {
                throw RowError(field: "\(here).role", "expected a non-empty string, got \(roleValue.kindDescription)")
            }
            guard let contentValue = m["content"] else { throw RowError(field: "\(here).content", "missing") }
            guard let content = contentValue.stringValue else {
                throw RowError(field: "\(here).content", "expected a string, got \(contentValue.kindDescription)")
            }
            return ChatMessage(role: role, content: content)
        }
    }

}

/// A row-level problem before the file and line are known.
struct RowError: Error {
    let field: String?
    let reason: String
    init(field: String?, _ reason: String) {
        self.field = field
        self.reason = reason
    }
}
