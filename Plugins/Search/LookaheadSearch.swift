import TemperCore

/// `lookahead`: beam search whose candidate steps are judged by where they lead (Snell et al.
/// 2024, "Scaling LLM Test-Time Compute Optimally…", §5 lookahead search). Each of the N·M
/// candidates is rolled out k more steps greedily (temperature 0, on forked rows that share its
/// prefix) and scored by the step scorer at the end of that rollout; the rollout is then dropped
/// and the best N candidates continue as in `beam`. k = 0 is beam search. The budget and
/// `max_new_tokens` hold as in `beam`, rollout tokens included (a rollout the budget cannot pay
/// for stops where it is and is scored there).
public final class LookaheadSearch: SearchStrategy {
    /// The registry name, `lookahead`.
    public static let name = "lookahead"
    /// One line for `temper plugins list` and `temper plugins show`.
    public static let summary = "beam search scoring each step by a greedy k-step rollout from it"
    /// `beams` (N), `expansions` (M), `lookahead` (k) and the shared step settings.
    public static let parameters: [ParameterSpec] = [
        .int("beams", default: 4, range: .atLeast(1), aliases: ["n_beams"], doc: "beams kept after each step (N)"),
        .int("expansions", default: 4, range: .atLeast(1), aliases: ["beam_width"], doc: "continuations sampled per beam and step (M)"),
        .int("lookahead", default: 1, range: .atLeast(0), doc: "greedy steps rolled out to score a candidate step (k)"),
    ] + StepSearchSettings.parameters

    let beams: Int, expansions: Int, lookahead: Int
    let settings: StepSearchSettings

    /// Reads the parameters from `config` (already validated against `parameters`).
    public init(config: ComponentConfig) throws {
        beams = try config.int("beams")
        expansions = try config.int("expansions")
        lookahead = try config.int("lookahead")
        settings = try StepSearchSettings(config: config, strategy: Self.name)
    }

    /// Searches each prompt in turn on its own decoding session; the request needs a step scorer.
    /// Candidates: the kept beams, best first; usage: everything the search spent, rollouts included.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        let scorer = try requireStepScorer(request, Self.name)
        let n = try BeamPlan.beams(strategy: Self.name, request: request, beams: beams, expansions: expansions)
        return try StepTree.searchEachPrompt(strategy: Self.name, request: request, settings: settings, scorer: scorer) { tree in
            let kept = try BeamPlan.run(tree, beams: n, expansions: expansions) { nodes in
                try scoreByRollout(&nodes, tree: tree, scorer: scorer)
            }
            return (tree.candidates(kept), [])
        }
    }

    /// Each node's score is the aggregated score of its greedy `lookahead`-step rollout (its own
    /// when it is complete or k = 0).
    private func scoreByRollout(_ nodes: inout [StepNode], tree: StepTree, scorer: any StepScoring) throws {
        var rollouts = nodes
        var owned: [StepNode] = []
        for _ in 0..<lookahead {
            let open = rollouts.indices.filter { !rollouts[$0].isComplete }
            if open.isEmpty || !tree.canGrow(rows: open.count) { break }
            let next = try tree.expand(open.map { rollouts[$0] }, copies: 1, temperature: 0)
            // The first rollout step forks the candidate's own row; later ones replace a rollout row.
            tree.release(open.map { rollouts[$0] }.filter { r in owned.contains { $0.row == r.row } })
            owned.removeAll { o in open.contains { rollouts[$0].row == o.row } }
            for (j, i) in open.enumerated() { rollouts[i] = next[j][0]; owned.append(next[j][0]) }
        }
        try tree.score(&rollouts, with: scorer)
        tree.release(owned)
        for i in nodes.indices { nodes[i].score = rollouts[i].score }
    }
}
