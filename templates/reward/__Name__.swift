import TemperCore

/// __component__: 1 when the completion contains the reference answer, else 0; nil for rows
/// without one. Replace `score` with your reward; read any dataset column by name from `batch.columns`.
public struct __Name__: RewardFunction {
    public static let name = "__component__"
    public static let summary = "1 if the completion contains the answer column (template: edit me)"
    public static let parameters: [ParameterSpec] = [
        .string("column", default: "answer", doc: "dataset column holding the reference answer"),
        .bool("ignore_case", default: true, doc: "compare case-insensitively"),
    ]

    let column: String
    let ignoreCase: Bool

    public init(config: ComponentConfig) throws {
        column = try config.string("column")
        ignoreCase = try config.bool("ignore_case")
    }

    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        let answers = try batch.column(column, for: Self.name)
        return zip(batch.completions, answers).map { completion, answer in
            if answer == .null { return nil }
            let (c, a) = ignoreCase ? (completion.lowercased(), answer.text.lowercased()) : (completion, answer.text)
            return c.contains(a) ? 1 : 0
        }
    }
}
