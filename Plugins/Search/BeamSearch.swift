import TemperCore

/// `beam`: step-level beam search with a step scorer (Snell et al. 2024, "Scaling LLM Test-Time
/// Compute Optimally can be More Effective than Scaling Model Parameters"; search-and-learn's
/// beam search). Each step, N beams are each continued M times (N·M candidate steps, one batched
/// decode over forked rows that share their prefixes); the step scorer ranks the N·M partial
/// solutions by their aggregated step scores and the best N survive. A solution that ends
/// (stop token, length or step cap) is kept while it ranks among the N best and is no longer
/// expanded. Candidates: the surviving solutions, best first.
///
/// A budget of `samplesPerPrompt` > 1 sets N·M (N = samples / M). `maxGeneratedTokens` is a cap
/// on the prompt's generated tokens that holds exactly: each step's rows share what remains (a
/// step cut short ends its solution with `.length`), and the search stops with the best solutions
/// so far when fewer tokens remain than rows to grow; `maxForwardPasses` stops it before the next
/// step. `max_new_tokens` caps each solution's tokens in total, over all its steps.
public final class BeamSearch: SearchStrategy {
    /// The registry name, `beam`.
    public static let name = "beam"
    /// One line for `temper plugins list` and `temper plugins show`.
    public static let summary = "step-level beam search: N beams × M expansions per step, ranked by a step scorer"
    /// `beams` (N, TRL / search-and-learn's `n_beams`), `expansions` (M, `beam_width`) and the
    /// step settings every step strategy shares.
    public static let parameters: [ParameterSpec] = [
        .int("beams", default: 4, range: .atLeast(1), aliases: ["n_beams"], doc: "beams kept after each step (N)"),
        .int("expansions", default: 4, range: .atLeast(1), aliases: ["beam_width"], doc: "continuations sampled per beam and step (M)"),
    ] + StepSearchSettings.parameters

    let beams: Int, expansions: Int
    let settings: StepSearchSettings

    /// Reads the parameters from `config` (already validated against `parameters`).
    public init(config: ComponentConfig) throws {
        beams = try config.int("beams")
        expansions = try config.int("expansions")
        settings = try StepSearchSettings(config: config, strategy: Self.name)
    }

    /// Searches each prompt in turn on its own decoding session; the request needs a step scorer.
    /// Candidates: the kept beams, best first; usage: everything the search spent.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        let scorer = try requireStepScorer(request, Self.name)
        let n = try BeamPlan.beams(strategy: Self.name, request: request, beams: beams, expansions: expansions)
        return try StepTree.searchEachPrompt(strategy: Self.name, request: request, settings: settings, scorer: scorer) { tree in
            let kept = try BeamPlan.run(tree, beams: n, expansions: expansions) { nodes in try tree.score(&nodes, with: scorer) }
            return (tree.candidates(kept), [])
        }
    }
}

/// The beam loop beam search and lookahead search share; they differ in how candidates are scored.
enum BeamPlan {
    /// N for this request: `beams`, or `samplesPerPrompt / expansions` when the budget sets it. An
    /// error when the budget cannot pay for the search's first step.
    static func beams(strategy: String, request: SearchRequest, beams: Int, expansions: Int) throws -> Int {
        var n = beams
        let samples = request.budget.samplesPerPrompt
        if samples > 1 {
            guard samples % expansions == 0 else {
                throw SpecError("\(strategy): a budget of \(samples) samples per step is not a multiple of expansions = \(expansions) " +
                                "(N beams × M expansions); use \(max(expansions, samples / expansions * expansions)) or set expansions")
            }
            n = samples / expansions
        }
        if let cap = request.budget.maxGeneratedTokens, cap < n * expansions {
            throw SpecError("\(strategy): a budget of \(cap) generated tokens cannot pay for one step of \(n) beams × \(expansions) " +
                            "expansions (at least \(n * expansions) tokens)")
        }
        return n
    }

    /// Grows `tree` to at most its step cap, keeping the `beams` best of `beams × expansions`
    /// candidates (scored by `score`) each step; returns the kept nodes. The first step samples
    /// `firstStep` continuations of the prompt (N·M by default: search-and-learn's fan-out).
    static func run(_ tree: StepTree, beams: Int, expansions: Int, firstStep: Int? = nil,
                    score: (inout [StepNode]) throws -> Void) throws -> [StepNode] {
        var open = [tree.root], done: [StepNode] = []
        var first = true
        while !open.isEmpty {
            let copies = first ? firstStep ?? beams * expansions : expansions
            guard tree.canGrow(rows: open.count * copies) else { break }
            var children = try tree.expand(open, copies: copies).flatMap { $0 }
            tree.release(open)
            first = false
            try score(&children)
            let ranked = StepNode.ranked(children + done)
            let kept = Array(ranked.prefix(beams))
            tree.release(Array(ranked.dropFirst(beams)))
            done = kept.filter(\.isComplete)
            open = kept.filter { !$0.isComplete }
        }
        return done + open
    }
}
