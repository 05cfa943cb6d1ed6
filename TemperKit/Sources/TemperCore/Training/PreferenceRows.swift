import TemperModels

/// One side of a preference row: plain text or a list of chat messages, as TRL accepts either.
public enum RowContent: Equatable {
    /// Plain text.
    case text(String)
    /// A conversation (or the assistant turns of one).
    case messages([ChatMessage])
}

/// Reads the rows of TRL's preference, unpaired and stepwise shapes. Errors name the field; the
/// caller adds the file and line.
enum PreferenceRowParser {
    /// `prompt` / `chosen` / `rejected` (prompt optional: then the shared prefix), optional `margin`.
    static func preference(_ object: [String: JSONValue]) throws -> DatasetRow {
        for key in ["chosen", "rejected"] where object[key] == nil {
            throw RowError(field: key, "missing: a preference row needs both 'chosen' and 'rejected'")
        }
        var chosen = try content(object["chosen"]!, field: "chosen")
        var rejected = try content(object["rejected"]!, field: "rejected")
        guard chosen.isText == rejected.isText else {
            throw RowError(field: "rejected", "'chosen' is \(chosen.kind) but 'rejected' is \(rejected.kind); both must be text or both messages")
        }
        guard chosen != rejected else { throw RowError(field: "rejected", "is identical to 'chosen': a preference pair must differ") }
        var margin: Float? = nil
        if let m = object["margin"] {
            guard let v = m.doubleValue, v.isFinite else { throw RowError(field: "margin", "expected a finite number, got \(m.kindDescription)") }
            margin = Float(v)
        }
        let prompt: RowContent
        if let p = object["prompt"] {
            prompt = try content(p, field: "prompt")
            guard prompt.isText == chosen.isText else {
                throw RowError(field: "prompt", "is \(prompt.kind) but 'chosen' is \(chosen.kind); both must be text or both messages")
            }
        } else {
            (prompt, chosen, rejected) = try splitImplicitPrompt(chosen, rejected)
        }
        return .preference(prompt: prompt, chosen: chosen, rejected: rejected, margin: margin)
    }

    /// `prompt` / `completion` / `label` (a JSON bool).
    static func unpaired(_ object: [String: JSONValue]) throws -> DatasetRow {
        for key in ["prompt", "completion"] where object[key] == nil {
            throw RowError(field: key, "missing: an unpaired row with 'label' needs 'prompt' and 'completion'")
        }
        let labelValue = object["label"]!
        guard let label = labelValue.boolValue else {
            throw RowError(field: "label", "expected true (desirable) or false (undesirable), got \(labelValue.kindDescription)")
        }
        let prompt = try content(object["prompt"]!, field: "prompt")
        let completion = try content(object["completion"]!, field: "completion")
        guard prompt.isText == completion.isText else {
            throw RowError(field: "completion", "is \(completion.kind) but 'prompt' is \(prompt.kind); both must be text or both messages")
        }
        return .unpaired(prompt: prompt, completion: completion, label: label)
    }

    /// `prompt` / `completions` (the steps) / `labels` (one bool per step).
    static func stepwise(_ object: [String: JSONValue]) throws -> DatasetRow {
        for key in ["prompt", "completions", "labels"] where object[key] == nil {
            throw RowError(field: key, "missing: a stepwise row needs 'prompt', 'completions' (the steps) and 'labels' (one bool per step)")
        }
        guard let prompt = object["prompt"]!.stringValue else {
            throw RowError(field: "prompt", "expected a string, got \(object["prompt"]!.kindDescription)")
        }
        guard let stepValues = object["completions"]!.arrayValue, !stepValues.isEmpty else {
            throw RowError(field: "completions", "expected a non-empty list of step strings, got \(object["completions"]!.kindDescription)")
        }
        guard let labelValues = object["labels"]!.arrayValue else {
            throw RowError(field: "labels", "expected a list of bools, got \(object["labels"]!.kindDescription)")
        }
        guard labelValues.count == stepValues.count else {
            throw RowError(field: "labels", "has \(labelValues.count) entries for \(stepValues.count) steps; one label per step")
        }
        let steps = try stepValues.enumerated().map { i, v in
            guard let s = v.stringValue else { throw RowError(field: "completions[\(i)]", "expected a string, got \(v.kindDescription)") }
            return s
        }
        let labels = try labelValues.enumerated().map { i, v in
            guard let b = v.boolValue else { throw RowError(field: "labels[\(i)]", "expected true or false, got \(v.kindDescription)") }
            return b
        }
        return .stepwise(prompt: prompt, steps: steps, labels: labels)
    }

    /// TRL's `extract_prompt`: the prompt is the longest common prefix of `chosen` and `rejected`
    /// (characters for text, whole messages for conversations); a space just before the split
    /// goes with the completions.
    static func splitImplicitPrompt(_ chosen: RowContent, _ rejected: RowContent) throws -> (RowContent, RowContent, RowContent) {
        switch (chosen, rejected) {
        case let (.text(c), .text(r)):
            let cs = Array(c), rs = Array(r)
            var k = zip(cs, rs).prefix { $0 == $1 }.count
            if k > 0, k < cs.count, k < rs.count, cs[k - 1] == " " { k -= 1 }
            guard k > 0 else {
                throw RowError(field: "prompt", "missing, and 'chosen' and 'rejected' share no prefix to take as the prompt")
            }
            guard k < cs.count, k < rs.count else {
                throw RowError(field: "chosen", "one of 'chosen' and 'rejected' is a prefix of the other, so no completion is left after the implicit prompt")
            }
            return (.text(String(cs[..<k])), .text(String(cs[k...])), .text(String(rs[k...])))
        case let (.messages(c), .messages(r)):
            let k = zip(c, r).prefix { $0 == $1 }.count
            guard k > 0 else {
                throw RowError(field: "prompt", "missing, and 'chosen' and 'rejected' share no leading message to take as the prompt")
            }
            guard k < c.count, k < r.count else {
                throw RowError(field: "chosen", "one of 'chosen' and 'rejected' is a prefix of the other, so no completion is left after the implicit prompt")
            }
            return (.messages(Array(c[..<k])), .messages(Array(c[k...])), .messages(Array(r[k...])))
        default:
            throw RowError(field: "rejected", "'chosen' and 'rejected' must both be text or both messages")
        }
    }

    private static func content(_ json: JSONValue, field: String) throws -> RowContent {
        if let s = json.stringValue { return .text(s) }
        guard json.arrayValue != nil else { throw RowError(field: field, "expected a string or a list of messages, got \(json.kindDescription)") }
        return .messages(try DatasetRow.messages(json, field: field))
    }
}

extension RowContent {
    var isText: Bool { if case .text = self { return true }; return false }
    var kind: String { isText ? "text" : "a list of messages" }
}
