import Foundation

/// The policy grades its own steps: after each step it is asked a correctness question, and the
/// step's score is p(yes) / (p(yes) + p(no)) of the answers it would give (self-evaluation guided
/// decoding, Xie et al. 2023, "Self-Evaluation Guided Beam Search for Reasoning"). One batched
/// `logprobs` call scores every step asked for (only the new ones, when the search keeps the rest).
public final class SelfEvaluationStepScorer: StepScoring {
    /// The model that wrote the steps and now grades them.
    public let model: any LanguageModelHandle
    /// How solutions are cut into steps.
    public let segmentation: StepSegmentation
    /// Text put after the steps so far to ask about the last one.
    public let question: String
    /// The continuation that means "correct".
    public let yes: String
    /// The continuation that means "incorrect".
    public let no: String

    /// A scorer asking `question` after each step and comparing `yes` against `no`.
    public init(model: any LanguageModelHandle, segmentation: StepSegmentation = .separator("\n\n"),
                question: String = "\n\nIs the last step correct? Answer Yes or No.\nAnswer:", yes: String = " Yes", no: String = " No") {
        self.model = model
        self.segmentation = segmentation
        self.question = question
        self.yes = yes
        self.no = no
    }

    /// p(yes) / (p(yes) + p(no)) after every step of every solution.
    public func scoreSteps(_ solutions: [PartialSolution]) throws -> [[Float]] {
        try scoreSteps(solutions, from: solutions.map { _ in 0 })
    }

    /// p(yes) / (p(yes) + p(no)) after the steps of solution i from `from[i]` on: a step's
    /// question sees only the steps up to it, so the earlier scores do not change.
    public func scoreSteps(_ solutions: [PartialSolution], from: [Int]) throws -> [[Float]] {
        let yesIDs = try model.tokenize(yes), noIDs = try model.tokenize(no)
        guard !yesIDs.isEmpty, !noIDs.isEmpty else { throw SpecError("self-evaluation: the yes / no answers must not be empty") }
        var pairs: [LogprobRequest] = []
        for (s, first) in zip(solutions, from) {
            for k in s.steps.indices where k >= first {
                let context = try model.tokenize(s.prompt + s.steps[...k].joined(separator: segmentation.joiner) + question)
                pairs.append(LogprobRequest(prompt: context, continuation: yesIDs))
                pairs.append(LogprobRequest(prompt: context, continuation: noIDs))
            }
        }
        let scored = try model.logprobs(pairs)
        var next = 0
        return zip(solutions, from).map { s, first in
            s.steps.dropFirst(first).map { _ in
                defer { next += 2 }
                let y = scored[next].reduce(0, +), n = scored[next + 1].reduce(0, +)
                // p(yes) / (p(yes) + p(no)) = σ(log p(yes) − log p(no))
                return Float(1 / (1 + Foundation.exp(Double(n - y))))
            }
        }
    }
}
