/// A final answer read once for comparison: the text found in a completion (or a reference cell)
/// and its parse.
public struct MathAnswer {
    /// The answer as it was written (the content of the box, the text after `####`, the last number, ...).
    public let text: String
    let parsed: ParsedAnswer

    init(_ raw: [UInt8]) {
        text = String(decoding: raw, as: UTF8.self)
        parsed = ParsedAnswer(raw)
    }
}

/// Finds final answers and decides when two are the same, with the rules `math-equiv` grades by:
/// numbers in any common spelling (`0.5`, `1/2` and `\frac{1}{2}` are one answer), radicals, tuples,
/// sets, intervals, equations and expressions equal as functions.
///
/// One reader serves the `math-equiv` reward and the search strategies that group answers
/// (self-consistency's vote, weighted best-of-N), so a vote and the grade never disagree on what
/// counts as the same answer.
public struct MathAnswerReader: Sendable {
    let extractor: AnswerExtractor
    let options: EquivalenceOptions

    /// A reader; the defaults are `math-equiv`'s.
    /// - Parameters:
    ///   - extract: where a completion's final answer is looked for.
    ///   - requireFormat: only accept an answer in the place `extract` names (no fallback to the last number).
    ///   - relativeTolerance: largest relative error accepted for a value without a finite decimal form.
    ///   - orderedTuples: whether `(a, b)` and `(b, a)` differ.
    public init(extract: MathExtractionMode = .auto, requireFormat: Bool = false,
                relativeTolerance: Double = 1e-6, orderedTuples: Bool = true) {
        extractor = AnswerExtractor(mode: extract, requireFormat: requireFormat)
        options = EquivalenceOptions(relativeTolerance: relativeTolerance, orderedTuples: orderedTuples)
    }

    /// The final answer of `completion`, or nil when it has none (an empty `\boxed{}` is none too).
    public func answer(in completion: String) -> MathAnswer? {
        guard let raw = extractor.extract(Array(completion.utf8)), !raw.isEmpty else { return nil }
        let answer = MathAnswer(raw)
        return answer.parsed.isEmpty ? nil : answer
    }

    /// The reference answer of a dataset cell (the boxed part of a MATH solution, the part after
    /// `####` of a GSM8K one, else the whole cell); nil when nothing is left.
    public func reference(_ cell: String) -> MathAnswer? {
        let answer = MathAnswer(AnswerExtractor.reference(Array(cell.utf8)))
        return answer.parsed.isEmpty ? nil : answer
    }

    /// Whether `answer` equals `reference` mathematically.
    public func equivalent(_ reference: MathAnswer, _ answer: MathAnswer) -> Bool {
        Equivalence.equivalent(reference.parsed, answer.parsed, options)
    }
}
