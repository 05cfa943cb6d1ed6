import TemperCore

/// 1 when the completion's final answer equals the reference answer mathematically, else 0; nil
/// for rows without a reference.
///
/// The answer is found and compared by TemperCore's `MathAnswerReader` (last `\boxed{}`, `#### x`,
/// "the answer is x", `<answer>` tag, last number), the reader search strategies vote with: numbers in any common spelling
/// (thousands separators, decimal commas, fractions, mixed numbers, percent, scientific notation,
/// units and currency around them), radicals and π, tuples, intervals, sets and solution lists,
/// equations and inequalities, matrices, and algebraic expressions equal as functions.
public struct MathEquivReward: RewardFunction {
    /// Registered name.
    public static let name = "math-equiv"
    /// One-line summary for `temper plugins`.
    public static let summary = "1 if the completion's final answer equals the answer column mathematically (GSM8K/MATH rules), else 0"
    /// Where the reference is, where the answer is looked for, and how strict the comparison is.
    public static let parameters: [ParameterSpec] = [
        .string("answer_column", default: "answer", aliases: ["column", "solution_column"],
                doc: "dataset column holding the reference answer (a bare answer, a MATH solution with \\boxed{}, or a GSM8K solution with ####)"),
        .choice("extract", MathExtractionMode.allCases.map(\.rawValue), default: MathExtractionMode.auto.rawValue,
                doc: "where the final answer is looked for: auto (answer tag, last \\boxed, ####, 'the answer is', then the last math span or number), boxed, hash, answer-is, last-number, answer-tag"),
        .bool("require_format", default: false,
              doc: "score 0 unless the answer is in the place `extract` names (auto: tag, box, #### or 'answer is'); no fallback to the last number"),
        .float("relative_tolerance", default: 1e-6, range: .closed(0, 0.5),
               doc: "largest relative error accepted for an approximation of a value without a finite decimal form (0.333 vs 1/3 needs 1e-3); exact decimals and integers must match exactly"),
        .bool("ordered_tuples", default: true,
              doc: "whether (a, b) and (b, a) differ; sets, solution lists (x = 1, 2) and \\pm answers never depend on order, intervals always do"),
    ]

    let column: String
    let reader: MathAnswerReader

    /// Reads the settings.
    public init(config: ComponentConfig) throws {
        column = try config.string("answer_column")
        let mode = try config.string("extract")
        guard let m = MathExtractionMode(rawValue: mode) else {
            throw SpecError("math-equiv: extract must be one of \(MathExtractionMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(mode)'")
        }
        reader = MathAnswerReader(extract: m, requireFormat: try config.bool("require_format"),
                                  relativeTolerance: try config.double("relative_tolerance"),
                                  orderedTuples: try config.bool("ordered_tuples"))
    }

    /// 1 or 0 per completion, nil where the reference cell is null or empty; a missing column is an error.
    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        let answers = try batch.column(column, for: Self.name)
        // A reference repeats across a group of completions (GRPO, best-of-N): read each once.
        var references: [String: MathAnswer?] = [:]
        var gold = [MathAnswer?](repeating: nil, count: batch.count)
        for (k, cell) in answers.enumerated() {
            guard let text = Self.referenceText(cell) else { continue }
            if let cached = references[text] { gold[k] = cached; continue }
            let parsed = reader.reference(text)
            references[text] = parsed
            gold[k] = parsed
        }
        var scores = [Float](repeating: .nan, count: batch.count)
        let completions = batch.completions
        scores.withUnsafeMutableBufferPointer { out in
            let out = out
            Parallel.forRanges(batch.count, grain: 64) { range in
                for k in range {
                    guard let g = gold[k] else { continue }
                    out[k] = self.grade(completions[k], against: g) ? 1 : 0
                }
            }
        }
        return scores.map { $0.isNaN ? nil : $0 }
    }

    /// Whether `completion` answers `gold`.
    func grade(_ completion: String, against gold: MathAnswer) -> Bool {
        guard let answer = reader.answer(in: completion) else { return false }
        return reader.equivalent(gold, answer)
    }

    /// The reference as text: strings as they are, numbers without a spurious `.0`, lists joined.
    static func referenceText(_ cell: ColumnValue) -> String? {
        switch cell {
        case .null: return nil
        case .string(let s): return s.allSatisfy(\.isWhitespace) ? nil : s
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
        case .array(let xs): return xs.isEmpty ? nil : xs.map(\.text).joined(separator: ", ")
        default: return cell.text
        }
    }
}
