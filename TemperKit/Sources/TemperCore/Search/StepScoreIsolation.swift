/// Step scores of a batch in which some candidates may have failed.
public struct IsolatedStepScores {
    /// Per solution, the scores of its steps from its `from` on, or nil when scoring it threw.
    public var scores: [[Float]?]
    /// Per failed solution, its index and the error's message.
    public var failures: [(index: Int, message: String)]
}

extension StepScoring {
    /// Scores `solutions` in one call; when that throws, scores each alone, so a candidate the
    /// scorer fails on is marked failed (nil) and counted while the others are scored as usual. A
    /// scorer that returns the wrong number of scores is an error, not a failure of a candidate.
    /// With `from`, only the steps of solution i from `from[i]` on are asked for (and returned).
    public func scoreStepsIsolatingFailures(_ solutions: [PartialSolution], from: [Int]? = nil) throws -> IsolatedStepScores {
        let from = from ?? solutions.map { _ in 0 }
        if let all = try? scoreSteps(solutions, from: from) {
            try checkShape(all, solutions, from: from)
            return IsolatedStepScores(scores: all, failures: [])
        }
        var result = IsolatedStepScores(scores: [], failures: [])
        for (i, s) in solutions.enumerated() {
            do {
                let one = try scoreSteps([s], from: [from[i]])
                try checkShape(one, [s], from: [from[i]])
                result.scores.append(one[0])
            } catch let error as StepScorerShapeError {
                throw error
            } catch {
                result.scores.append(nil)
                result.failures.append((i, "\(error)"))
            }
        }
        return result
    }

    private func checkShape(_ scores: [[Float]], _ solutions: [PartialSolution], from: [Int]) throws {
        guard scores.count == solutions.count else {
            throw StepScorerShapeError("step scorer \(type(of: self)) returned \(scores.count) score lists for \(solutions.count) solutions")
        }
        for (i, (s, sol)) in zip(scores, solutions).enumerated() where s.count != sol.steps.count - from[i] {
            let asked = from[i] == 0 ? "" : " (asked from step \(from[i] + 1))"
            throw StepScorerShapeError("step scorer \(type(of: self)) returned \(s.count) scores for solution \(i) with \(sol.steps.count) steps\(asked)")
        }
    }
}

/// A step scorer broke its contract (scores do not match the steps).
public struct StepScorerShapeError: Error, CustomStringConvertible {
    /// What was returned and what was expected.
    public let description: String
    init(_ message: String) { description = message }
}
