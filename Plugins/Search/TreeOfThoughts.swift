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
///   first solution valued at least `threshold` that really ended — a stop token or stop string;
///   one cut off by `max_new_tokens`, `step_tokens`, `max_steps` or the budget is no answer and
///   the search goes on (ToT's Algorithm 2). Candidates: that solution, or when none qualifies
///   every finished or deepest state seen, best first.
///
/// The budget and `max_new_tokens` hold as in `beam`.
public final class TreeOfThoughts: SearchStrategy {
    /// The registry name, `tree-of-thoughts`.
    public static let name = "tree-of-thoughts"
    /// One line for `temper plugins list` and `temper plugins show`.
    public static let summary = "Tree of Thoughts: BFS or DFS over steps the model proposes (k) and evaluates (b kept)"
    /// `algorithm`, `proposals` (k), `keep` (b), `threshold` (DFS) and the shared step settings.
    public static let parameters: [ParameterSpec] = [
        .choice("algorithm", ["bfs", "dfs"], default: "bfs", doc: "breadth-first with b kept per level, or depth-first with pruning"),
        .int("proposals", default: 3, range: .atLeast(1), aliases: ["k"], doc: "thoughts proposed per state (k)"),
        .int("keep", default: 2, range: .atLeast(1), aliases: ["b", "breadth"], doc: "states kept per level in BFS (b)"),
        .float("threshold", default: 0.5, doc: "DFS: states valued below it are pruned; a finished solution at or above it ends the search"),
    ] + StepSearchSettings.parameters

    let depthFirst: Bool, proposals: Int, keep: Int, threshold: Float
    let settings: StepSearchSettings

    /// Reads the parameters from `config` (already validated against `parameters`).
    public init(config: ComponentConfig) throws {
        depthFirst = try config.string("algorithm") == "dfs"
        proposals = try config.int("proposals")
        keep = try config.int("keep")
        threshold = try config.float("threshold")
        settings = try StepSearchSettings(config: config, strategy: Self.name)
    }

    /// Searches each prompt in turn on its own decoding session, evaluating states with the
    /// request's step scorer or, without one, the model's self-evaluation. Candidates as above;
    /// usage: everything the search spent, evaluation included.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        let evaluator = request.stepScorer ?? SelfEvaluationStepScorer(model: request.model, segmentation: .separator(settings.separator))
        if let cap = request.budget.maxGeneratedTokens, cap < proposals {
            throw SpecError("tree-of-thoughts: a budget of \(cap) generated tokens cannot pay for \(proposals) proposals (at least \(proposals) tokens)")
        }
        return try StepTree.searchEachPrompt(strategy: Self.name, request: request, settings: settings, scorer: evaluator) { tree in
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
            return (tree.candidates(found), [])
        }
    }

    /// Depth-first search from `state`; the first really ended solution valued ≥ threshold, or nil.
    /// Every evaluated state is added to `seen`.
    private func dfs(_ state: StepNode, tree: StepTree, evaluator: any StepScoring, seen: inout [StepNode]) throws -> StepNode? {
        if !tree.canGrow(rows: proposals) { return nil }
        var children = try tree.expand([state], copies: proposals)[0]
        try tree.score(&children, with: evaluator)
        seen += children
        for child in StepNode.ranked(children) {
            guard let v = child.score, v >= threshold else { break }
            if child.finish == .eos || child.finish == .stop { return child }
            // Cut off by a length or step cap: not an answer, and it cannot grow; try the next.
            if child.isComplete { continue }
            if let found = try dfs(child, tree: tree, evaluator: evaluator, seen: &seen) { return found }
        }
        return nil
    }
}
