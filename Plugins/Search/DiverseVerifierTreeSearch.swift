import TemperCore

/// `dvts`: diverse verifier tree search (Beeching, Tunstall & Rush 2024, "Scaling test-time compute
/// with open models"). The budget is split into K independent subtrees, each searched greedily on
/// its own — its head (at first the prompt) is continued M times and the best-scored continuation
/// becomes the new head — so no subtree can crowd out another (beam search's loss of diversity).
/// As in search-and-learn's `dvts.py`, the first step is no exception: K·M first steps are sampled
/// and each subtree keeps the best of its M. Candidates: one solution per subtree, best first.
///
/// A budget of `samplesPerPrompt` > 1 sets K·M (K = samples / M); `maxGeneratedTokens` and
/// `max_new_tokens` hold as in `beam`.
public final class DiverseVerifierTreeSearch: SearchStrategy {
    /// The registry name, `dvts`.
    public static let name = "dvts"
    /// One line for `temper plugins list` and `temper plugins show`.
    public static let summary = "diverse verifier tree search: K independent subtrees, each greedy on the step scorer over M expansions"
    /// `subtrees` (K), `expansions` (M, search-and-learn's `beam_width`) and the shared step settings.
    public static let parameters: [ParameterSpec] = [
        .int("subtrees", default: 4, range: .atLeast(1), doc: "independent subtrees (K)"),
        .int("expansions", default: 4, range: .atLeast(1), aliases: ["beam_width"], doc: "continuations sampled per subtree and step (M)"),
    ] + StepSearchSettings.parameters

    let subtrees: Int, expansions: Int
    let settings: StepSearchSettings

    /// Reads the parameters from `config` (already validated against `parameters`).
    public init(config: ComponentConfig) throws {
        subtrees = try config.int("subtrees")
        expansions = try config.int("expansions")
        settings = try StepSearchSettings(config: config, strategy: Self.name)
    }

    /// Searches each prompt in turn on its own decoding session; the request needs a step scorer.
    /// Candidates: each subtree's solution, best first; usage: everything the search spent.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        let scorer = try requireStepScorer(request, Self.name)
        let k = try BeamPlan.beams(strategy: Self.name, request: request, beams: subtrees, expansions: expansions)
        return try StepTree.searchEachPrompt(strategy: Self.name, request: request, settings: settings, scorer: scorer) { tree in
            var heads: [StepNode] = []
            if tree.canGrow(rows: k * expansions) {
                var flat = try tree.expand([tree.root], copies: k * expansions)[0]
                try tree.score(&flat, with: scorer)
                heads = (0..<k).map { j in keepBest(Array(flat[j * expansions..<(j + 1) * expansions]), of: tree) }
            }
            tree.release([tree.root])
            while true {
                let open = heads.indices.filter { !heads[$0].isComplete }
                if open.isEmpty || !tree.canGrow(rows: open.count * expansions) { break }
                let grown = try tree.expand(open.map { heads[$0] }, copies: expansions)
                tree.release(open.map { heads[$0] })
                var flat = grown.flatMap { $0 }
                try tree.score(&flat, with: scorer)
                // Each subtree keeps its own best child: subtrees never compete with each other.
                for (j, h) in open.enumerated() { heads[h] = keepBest(Array(flat[j * expansions..<(j + 1) * expansions]), of: tree) }
            }
            return (tree.candidates(heads), [])
        }
    }

    /// The best-scored of one subtree's `children`; the others' rows are freed.
    private func keepBest(_ children: [StepNode], of tree: StepTree) -> StepNode {
        let ranked = StepNode.ranked(children)
        tree.release(Array(ranked.dropFirst()))
        return ranked[0]
    }
}
