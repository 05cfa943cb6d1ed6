import TemperCore

/// `tree-of-thoughts`: Tree of Thoughts (Yao et al. 2023, "Tree of Thoughts: Deliberate Problem
/// Solving with Large Language Models"). The model proposes k next thoughts (steps) for a state and
/// evaluates states; by default it evaluates itself (p("Yes") to a correctness question, see
/// `SelfEvaluationStepScorer`), or a step scorer given with the request does.
///
/// - `algorithm=bfs`: each level, every kept state proposes k thoughts and the b best of all
///   proposals are kept (ToT's Algorithm 1); candidates: the states kept at the end, best first.
/// - `algorithm=dfs`: depth first, children tried best first; a state valued below `threshold` is
///   pruned (and its siblings after it, being worse), the search backtracks, and it stops at the
///   first finished solution valued at least `threshold` (ToT's Algorithm 2). Candidates: that
///   solution, or when none qualifies every finished or deepest state seen, best first.
public final class TreeOfThoughts: SearchStrategy {
    public static let name = "tree-of-thoughts"
    public static let summary = "Tree of Thoughts: BFS or DFS over steps the model proposes (k) and evaluates (b kept)"
    public static let parameters: [ParameterSpec] = [
        .choice("algorithm", ["bfs", "dfs"], default: "bfs", doc: "breadth-first with b kept per level, or depth-first with pruning"),
        .int("proposals", default: 3, range: .atLeast(1), aliases: ["k"], doc: "thoughts proposed per state (k)"),
        .int("keep", default: 2, range: .atLeast(1), aliases: ["b", "breadth"], doc: "states kept per level in BFS (b)"),
        .float("threshold", default: 0.5, doc: "DFS: states valued below it are pruned; a finished solution at or above it ends the search"),
    ] + StepSearchSettings.parameters

    let depthFirst: Bool, proposals: Int, keep: Int, threshold: Float
    let settings: StepSearchSettings

    public init(config: ComponentConfig) throws {
        depthFirst = try config.string("algorithm") == "dfs"
        proposals = try config.int("proposals")
        keep = try config.int("keep")
        threshold = try config.float("threshold")
        settings = try StepSearchSettings(config: config, strategy: Self.name)
    }

    public func search(_ request: SearchRequest) throws -> SearchResult {
        let evaluator = request.stepScorer ?? SelfEvaluationStepScorer(model: request.model, segmentation: .separator(settings.separator))
        if let cap = request.budget.maxGeneratedTokens, cap < proposals {
            throw SpecError("tree-of-thoughts: a budget of \(cap) generated tokens cannot pay for \(proposals) proposals (at least \(proposals) tokens)")
        }
        let before = request.model.usage
        var candidates: [[ScoredCandidate]] = [], failures: [String] = []
        for p in request.prompts.indices {
            let tree = try StepTree(strategy: Self.name, request: request, promptIndex: p, settings: settings, scorer: evaluator)
            let found: [StepNode]
            if depthFirst {
                var seen: [StepNode] = []
                if let solution = try dfs(tree.root, tree: tree, evaluator: evaluator, seen: &seen) {
                    found = [solution]
                } else {
                    let finished = seen.filter(\.isComplete)
                    let deepest = seen.map(\.steps.count).max() ?? 0
                    found = finished.isEmpty ? seen.filter { $0.steps.count == deepest } : finished
                }
            } else {
                // The prompt is one state: it proposes k thoughts like any other.
                found = try BeamPlan.run(tree, beams: keep, expansions: proposals, firstStep: proposals) { nodes in
                    try tree.score(&nodes, with: evaluator)
                }
            }
            candidates.append(tree.candidates(found))
            failures += tree.failures
        }
        return SearchResult(candidates: candidates, usage: request.model.usage - before, failures: failures)
    }

    /// Depth-first search from `state`; the first finished solution valued ≥ threshold, or nil.
    /// Every evaluated state is added to `seen`.
    private func dfs(_ state: StepNode, tree: StepTree, evaluator: any StepScoring, seen: inout [StepNode]) throws -> StepNode? {
        if tree.budgetExhausted { return nil }
        var children = try tree.expand([state], copies: proposals)[0]
        try tree.score(&children, with: evaluator)
        seen += children
        for child in StepNode.ranked(children) {
            guard let v = child.score, v >= threshold else { break }
            if child.isComplete { return child }
            if let found = try dfs(child, tree: tree, evaluator: evaluator, seen: &seen) { return found }
        }
        return nil
    }
}
