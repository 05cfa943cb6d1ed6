import TemperCore

/// `dvts`: diverse verifier tree search (Beeching, Tunstall & Rush 2024, "Scaling test-time compute
/// with open models"). The budget is split into K independent subtrees: K first steps are sampled
/// from the prompt, and from then on each subtree is searched greedily on its own — its head is
/// continued M times and the best-scored continuation becomes the new head — so no subtree can
/// crowd out another (beam search's loss of diversity). Candidates: one solution per subtree,
/// best first.
///
/// A budget of `samplesPerPrompt` > 1 sets K·M (K = samples / M).
public final class DiverseVerifierTreeSearch: SearchStrategy {
    public static let name = "dvts"
    public static let summary = "diverse verifier tree search: K independent subtrees, each greedy on the step scorer over M expansions"
    public static let parameters: [ParameterSpec] = [
        .int("subtrees", default: 4, range: .atLeast(1), doc: "independent subtrees (K)"),
        .int("expansions", default: 4, range: .atLeast(1), aliases: ["beam_width"], doc: "continuations sampled per subtree and step (M)"),
    ] + StepSearchSettings.parameters

    let subtrees: Int, expansions: Int
    let settings: StepSearchSettings

    public init(config: ComponentConfig) throws {
        subtrees = try config.int("subtrees")
        expansions = try config.int("expansions")
        settings = try StepSearchSettings(config: config, strategy: Self.name)
    }

    public func search(_ request: SearchRequest) throws -> SearchResult {
        let scorer = try requireStepScorer(request, Self.name)
        let k = try BeamPlan.beams(strategy: Self.name, request: request, beams: subtrees, expansions: expansions)
        let before = request.model.usage
        var candidates: [[ScoredCandidate]] = [], failures: [String] = []
        for p in request.prompts.indices {
            let tree = try StepTree(strategy: Self.name, request: request, promptIndex: p, settings: settings, scorer: scorer)
            var heads = try tree.expand([tree.root], copies: k)[0]
            tree.release([tree.root])
            try tree.score(&heads, with: scorer)
            while !tree.budgetExhausted {
                let open = heads.indices.filter { !heads[$0].isComplete }
                if open.isEmpty { break }
                let grown = try tree.expand(open.map { heads[$0] }, copies: expansions)
                tree.release(open.map { heads[$0] })
                var flat = grown.flatMap { $0 }
                try tree.score(&flat, with: scorer)
                // Each subtree keeps its own best child: subtrees never compete with each other.
                for (j, h) in open.enumerated() {
                    let mine = Array(flat[j * expansions..<(j + 1) * expansions])
                    let best = StepNode.ranked(mine)
                    heads[h] = best[0]
                    tree.release(Array(best.dropFirst()))
                }
            }
            candidates.append(tree.candidates(heads))
            failures += tree.failures
        }
        return SearchResult(candidates: candidates, usage: request.model.usage - before, failures: failures)
    }
}
