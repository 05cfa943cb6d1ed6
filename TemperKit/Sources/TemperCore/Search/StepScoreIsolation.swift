/// Step scores of a batch in which some candidates may have failed.
public struct IsolatedStepScores {
    /// Per solution, its step scores, or nil when scoring it threw.
    public var scores: [[Float]?]
    /// Per failed solution, its index and the error's message.
    public var failures: [(index: Int, message: String)]
}

extension StepScoring {
    /// Scores `solutions` in one call; when that throws, scores each alone, so a candidate the
    /// scorer fails on is marked failed (nil) and counted while the others are scored as usual. A
    /// scorer that returns the wrong number of scores is an error, not a failure of a candidate.
    public func scoreStepsIsolatingFailures(_ solutions: [PartialSolution]) throws -> IsolatedStepScores {
        if let all = try? scoreSteps(solutions) {
            try checkShape(all, solutions)
            return IsolatedStepScores(scores: all, failures: [])
        }
        var result = IsolatedStepScores(scores: [], failures: [])
        for (i, s) in solutions.enumerated() {
            do {
                let one = try scoreSteps([s])
                try checkShape(one, [s])
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

    private func checkShape(_ scores: [[Float]], _ solutions: [PartialSolution]) throws {
        guard scores.count == solutions.count else {
            throw StepScorerShapeError("step scorer \(type(of: self)) returned \(scores.count) score lists for \(solutions.count) solutions")
        }
        for (i, (s, sol)) in zip(scores, solutions).enumerated() where s.count != sol.steps.count {
            throw StepScorerShapeError("step scorer \(type(of: self)) returned \(s.count) scores for solution \(i) with \(sol.steps.count) steps")
        }
    }
}

/// A step scorer broke its contract (scores do not match the steps).
public struct StepScorerShapeError: Error, CustomStringConvertible {
    /// What was returned and what was expected.
    public let description: String
    init(_ message: String) { description = message }
}
