import TemperCore

/// 1 when the completion equals the reference answer after normalisation, else 0; nil for rows
/// without an answer. Normalisation options mirror SQuAD-style exact match: case, surrounding and
/// repeated whitespace, punctuation.
public struct ExactMatch: RewardFunction {
    /// Registered name.
    public static let name = "exact-match"
    /// One-line summary for `temper plugins`.
    public static let summary = "1 if the completion equals the answer column after normalisation, else 0"
    /// Which column to compare with, and what to ignore.
    public static let parameters: [ParameterSpec] = [
        .string("column", default: "answer", doc: "dataset column holding the reference answer"),
        .bool("ignore_case", default: true, doc: "compare case-insensitively"),
        .bool("ignore_whitespace", default: true, doc: "trim the ends and treat any run of whitespace as one space"),
        .bool("ignore_punctuation", default: false, doc: "drop ASCII punctuation before comparing"),
    ]

    let column: String
    let options: Normalization

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        column = try config.string("column")
        options = Normalization(ignoreCase: try config.bool("ignore_case"),
                                ignoreWhitespace: try config.bool("ignore_whitespace"),
                                ignorePunctuation: try config.bool("ignore_punctuation"))
    }

    /// 1 or 0 per completion, nil where the answer cell is null; a missing column is an error.
    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        let answers = try batch.column(column, for: Self.name)
        return zip(batch.completions, answers).map { completion, answer in
            if answer == .null { return nil }
            return options.apply(completion) == options.apply(answer.text) ? 1 : 0
        }
    }
}

/// How texts are made comparable.
struct Normalization {
    var ignoreCase: Bool
    var ignoreWhitespace: Bool
    var ignorePunctuation: Bool

    /// The normalised form of `text`. Works on Unicode scalars; punctuation means ASCII punctuation,
    /// so the result matches the C reward's byte-wise normalisation on ASCII input.
    func apply(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var pendingSpace = false
        for s in text.unicodeScalars {
            if ignorePunctuation, s.isASCII, Self.punctuation.contains(UInt8(s.value)) { continue }
            if ignoreWhitespace, s.properties.isWhitespace {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(" "); pendingSpace = false }
            out.append(s)
        }
        let result = String(out)
        return ignoreCase ? result.lowercased() : result
    }

    private static let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".utf8)
}
