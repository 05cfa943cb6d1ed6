import Foundation

/// STaR's rationalization (Zelikman et al. 2022, arXiv 2203.14465, §3.2): a problem none of whose
/// sampled completions was correct is asked again with its answer given as a hint; the hinted
/// completions that now reach the reward threshold are trained on *as if the hint had not been
/// there* — paired with the original prompt — so the model learns to produce the rationale
/// without being told the answer.
///
/// The on-policy loop applies it to every group of a generation batch whose best reward is below
/// `threshold`: it samples `num_generations` new completions of the hinted prompt, scores them
/// against the original row (same columns, same reward functions) and puts them in the group in
/// place of the failed ones, prompt unchanged. Objectives that want it conform to
/// `RationalizingObjective` (`rft` with `rationalization=true`).
public struct Rationalization: Equatable, Sendable {
    /// The hinted prompt: `{prompt}` is the original prompt text (the last user message of a
    /// conversation), `{answer}` the hint.
    public var template: String
    /// The column holding the answer.
    public var answerColumn: String
    /// A group is rationalized when none of its rewards reaches this (the objective's "correct").
    public var threshold: Float

    /// STaR's hint, appended to the question.
    public static let defaultTemplate = "{prompt}\n(Hint: the answer is {answer}.)"

    /// A rationalization with `template`, reading the answer from `answerColumn`.
    public init(template: String = Rationalization.defaultTemplate, answerColumn: String = "answer", threshold: Float) throws {
        guard template.contains("{prompt}"), template.contains("{answer}") else {
            throw SpecError("rationalization hint template must contain {prompt} and {answer}, got \"\(template)\"")
        }
        self.template = template
        self.answerColumn = answerColumn
        self.threshold = threshold
    }

    /// The answer the hint gives: the column's text, or, for a GSM8K-style worked solution, the
    /// text after its last `####` (the hint is the answer, not the rationale STaR wants learned).
    public func answer(of example: PromptExample, file: String) throws -> String {
        guard let cell = example.columns[answerColumn], cell != .null else {
            throw TrainingDataError(file: file, line: example.line, field: answerColumn,
                                    "missing: STaR rationalization gives this column's answer as a hint")
        }
        let text = cell.text
        guard let marker = text.range(of: "####", options: .backwards) else { return text.trimmingCharacters(in: .whitespacesAndNewlines) }
        return text[marker.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The token ids of `example`'s prompt with the hint: a text prompt is replaced by the filled
    /// template; in a conversation the last user message is, and the chat is rendered again.
    public func hintedIDs(_ example: PromptExample, tokenizer: Tokenizer, file: String) throws -> [Int32] {
        let answer = try answer(of: example, file: file)
        func fill(_ prompt: String) -> String {
            template.replacingOccurrences(of: "{prompt}", with: prompt).replacingOccurrences(of: "{answer}", with: answer)
        }
        guard var messages = example.messages else { return tokenizer.encode(fill(example.text), parseSpecialTokens: false) }
        guard let last = messages.lastIndex(where: { $0.role == "user" }) else {
            throw TrainingDataError(file: file, line: example.line, field: "prompt", "has no user message to add the rationalization hint to")
        }
        messages[last].content = fill(messages[last].content)
        do { return try tokenizer.encodeChat(messages, addGenerationPrompt: true) } catch let e as TokenizerError {
            throw TrainingDataError(file: file, line: example.line, field: "prompt", "with the rationalization hint cannot be rendered with the model's chat template: \(e)")
        }
    }
}

/// An objective that asks the on-policy loop for STaR rationalization of the problems it failed.
public protocol RationalizingObjective: Objective {
    /// The rationalization to apply, nil when it is off.
    var rationalization: Rationalization? { get }
}
