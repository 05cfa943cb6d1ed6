import TemperCore

/// The `extract` parameter the voting strategies share with `math-equiv`.
let answerExtractionParameter = ParameterSpec.choice(
    "extract", MathExtractionMode.allCases.map(\.rawValue), default: MathExtractionMode.auto.rawValue,
    doc: "where a candidate's final answer is looked for, as in math-equiv: auto, boxed, hash, answer-is, last-number, answer-tag")

/// The answer reader for an `extract` setting.
func answerReader(_ config: ComponentConfig) throws -> MathAnswerReader {
    let raw = try config.string("extract")
    guard let mode = MathExtractionMode(rawValue: raw) else {
        throw SpecError("\(config.component): extract must be one of \(MathExtractionMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(raw)'")
    }
    return MathAnswerReader(extract: mode)
}
