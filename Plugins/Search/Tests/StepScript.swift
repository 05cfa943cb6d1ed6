import TemperCore
import TemperTestSupport

/// The scripted tree the strategy tests search: below the prompt "Q:", the k-th sample of a step
/// after the step `s` is the step `s` + "k" (so "1" → "10", "11", …; the first steps are "0", "1",
/// …), ended by the separator "|", until a step of three characters, which ends the solution.
enum StepScript {
    static let prompt = "Q:"

    /// A scripted model growing that tree.
    static func model() -> ScriptedLanguageModel {
        ScriptedLanguageModel { context, k in
            let last = context.dropFirst(prompt.count).split(separator: "|").last.map(String.init) ?? ""
            let step = last + String(k)
            return step.count >= 3 ? step : step + "|"
        }
    }
}

/// A step scorer with known scores: each step scores `table[step]` (0 when absent); it throws
/// for a solution whose last step is in `failing`, and logs the solutions it was asked about and
/// how many steps of them were new (not yet scored by the search).
final class TableStepScorer: StepScoring {
    let segmentation = StepSegmentation.separator("|")
    let table: [String: Float]
    let failing: Set<String>
    private(set) var asked: [String] = []
    private(set) var newSteps = 0

    init(_ table: [String: Float], failing: Set<String> = []) {
        self.table = table
        self.failing = failing
    }

    struct Refused: Error, CustomStringConvertible {
        let step: String
        var description: String { "no score for step \(step)" }
    }

    func scoreSteps(_ solutions: [PartialSolution]) throws -> [[Float]] {
        for s in solutions {
            if let last = s.steps.last, failing.contains(last) { throw Refused(step: last) }
        }
        asked += solutions.map { $0.steps.joined(separator: "|") }
        return solutions.map { $0.steps.map { table[$0] ?? 0 } }
    }

    func scoreSteps(_ solutions: [PartialSolution], from: [Int]) throws -> [[Float]] {
        let all = try scoreSteps(solutions)
        newSteps += zip(solutions, from).map { $0.steps.count - $1 }.reduce(0, +)
        return zip(all, from).map { Array($0.dropFirst($1)) }
    }
}

extension SearchResult {
    /// Per prompt, the candidates' texts, best first.
    var texts: [[String]] { candidates.map { $0.map(\.sequence.text) } }
}
