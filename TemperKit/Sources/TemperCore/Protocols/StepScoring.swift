import Foundation

/// Where one reasoning step ends and the next begins in a solution's text.
public enum StepSegmentation: Equatable, Sendable, CustomStringConvertible {
    /// Steps are separated by this text: `"\n\n"` (the default of search-and-learn style step
    /// search), or a process reward model's step tag (Math-Shepherd's `"ки"`).
    case separator(String)
    /// Steps end where this regular expression matches (the match belongs to the step before).
    case regex(String)

    /// The steps of `text`, without their separators and without empty steps.
    public func split(_ text: String) throws -> [String] {
        switch self {
        case .separator(let s):
            guard !s.isEmpty else { throw SpecError("step separator must not be empty") }
            return text.components(separatedBy: s).filter { !$0.isEmpty }
        case .regex(let pattern):
            let re: NSRegularExpression
            do { re = try NSRegularExpression(pattern: pattern) } catch {
                throw SpecError("step regex '\(pattern)' is not a valid regular expression: \(error.localizedDescription)")
            }
            let ns = text as NSString
            var steps: [String] = [], start = 0
            for m in re.matches(in: text, range: NSRange(location: 0, length: ns.length)) where m.range.length > 0 {
                steps.append(ns.substring(with: NSRange(location: start, length: m.range.location - start)))
                start = m.range.location + m.range.length
            }
            steps.append(ns.substring(from: start))
            return steps.filter { !$0.isEmpty }
        }
    }

    /// The text put between steps when a partial solution is written back out (the separator;
    /// `"\n\n"` for a regex).
    public var joiner: String {
        switch self {
        case .separator(let s): return s
        case .regex: return "\n\n"
        }
    }

    /// `\n\n`, a quoted separator, or `regex:/…/`.
    public var description: String {
        switch self {
        case .separator(let s): return "separator \(String(reflecting: s))"
        case .regex(let r): return "regex /\(r)/"
        }
    }
}

/// A solution in progress: the prompt it answers and the steps written so far.
public struct PartialSolution: Equatable, Sendable {
    /// The prompt (chat-rendered where the data is conversational).
    public var prompt: String
    /// The steps so far, in order, without separators.
    public var steps: [String]
    /// The dataset columns of the prompt's row (`answer`, ...), for scorers that run a reward.
    public var columns: [String: ColumnValue]

    /// A partial solution from parts.
    public init(prompt: String, steps: [String], columns: [String: ColumnValue] = [:]) {
        self.prompt = prompt
        self.steps = steps
        self.columns = columns
    }
}

/// Scores every step of partial solutions: a process reward model (PRM), the policy's own
/// self-evaluation, or an outcome reward on rollouts from each step — interchangeable for step-level
/// search (beam, DVTS, lookahead, MCTS, tree of thoughts).
///
/// To provide one (a PRM plugin, for instance): return one score per step of every solution, higher
/// meaning more likely correct (a PRM's probability that the step is correct, in [0, 1] by
/// convention), and say how your model separates steps in `segmentation` so strategies cut
/// generations where your model expects. Searches aggregate step scores themselves (last, min or
/// product), so return the per-step values, not an aggregate. Throw for a solution you cannot
/// score: strategies then score that candidate as failed, count it, and carry on with the others.
public protocol StepScoring: AnyObject {
    /// How the scorer cuts a solution into steps.
    var segmentation: StepSegmentation { get }
    /// For each solution, one score per step (`result[i].count == solutions[i].steps.count`).
    func scoreSteps(_ solutions: [PartialSolution]) throws -> [[Float]]
    /// For each solution, the scores of its steps from `from[i]` on (`result[i].count ==
    /// solutions[i].steps.count - from[i]`): a tree search keeps the scores of the steps a node
    /// inherited and asks only for the new one, so scoring a path of depth d costs one step, not d.
    /// A scorer whose step score depends only on the steps up to it (self-evaluation, rollouts)
    /// computes just those; the default scores whole solutions and drops the known part.
    func scoreSteps(_ solutions: [PartialSolution], from: [Int]) throws -> [[Float]]
}

extension StepScoring {
    /// Scores whole solutions, then drops the first `from[i]` scores of each.
    public func scoreSteps(_ solutions: [PartialSolution], from: [Int]) throws -> [[Float]] {
        try zip(scoreSteps(solutions), from).map { Array($0.dropFirst($1)) }
    }
}
