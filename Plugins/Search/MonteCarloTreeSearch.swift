import Foundation
import TemperCore

/// `mcts`: Monte Carlo tree search over reasoning steps with PUCT (AlphaZero's selection rule,
/// Silver et al. 2017; over LLM steps as in Feng et al. 2023, "AlphaZero-like Tree-Search can
/// Guide Large Language Model Decoding and Training").
///
/// Each simulation walks from the prompt to a leaf choosing the child a maximising
///     Q(s, a) + c_puct · P(s, a) · √N(s) / (1 + N(s, a))
/// (Q the mean value of a's simulations; P the policy prior; N visit counts; ties go to the
/// earlier child). An unvisited child has no value of its own: it gets its parent's mean value
/// (first-play urgency = parent Q, as Leela Chess Zero and KataGo do). With values in [0, 1],
/// Q = 0 would be the worst possible value and keep the search on the first child it visited.
/// A leaf is expanded into M sampled steps whose priors are the policy's probabilities of those
/// steps renormalised over the siblings, P = softmax(log p(step)); the leaf's value v — the step
/// scorer's aggregated score of its path (`value=step`), or the verifier's reward of a completion
/// sampled from it (`value=rollout`); a finished solution is valued by the verifier when there is
/// one — is added to every node on the path. After the simulations the most visited child is
/// followed from the prompt as far as children were visited (visit counts decide); the path is
/// completed by sampling when it ends before the solution does. Candidates: that answer (scored
/// by its Q), then the other finished solutions in the tree by value.
///
/// A budget of `samplesPerPrompt` > 1 sets the number of simulations. `maxGeneratedTokens` holds
/// exactly: expansions share what remains as in `beam`, a completion takes at most what remains
/// (none left: a rollout is valued on its unfinished text, the answer is returned unfinished),
/// and the simulations stop when an expansion cannot be paid for. `max_new_tokens` caps each
/// solution's tokens in total, completions included.
public final class MonteCarloTreeSearch: SearchStrategy {
    /// The registry name, `mcts`.
    public static let name = "mcts"
    /// One line for `temper plugins list` and `temper plugins show`.
    public static let summary = "Monte Carlo tree search with PUCT over steps: LM prior, value from a step scorer or rollouts"
    /// `simulations`, `expansions` (M), `c_puct`, `value` (step or rollout) and the shared step settings.
    public static let parameters: [ParameterSpec] = [
        .int("simulations", default: 16, range: .atLeast(1), doc: "selection–expansion–evaluation–backup rounds"),
        .int("expansions", default: 3, range: .atLeast(1), doc: "steps sampled when a leaf is expanded (M)"),
        .float("c_puct", default: 1.0, range: .atLeast(0), doc: "exploration weight of the prior term"),
        .choice("value", ["step", "rollout"], default: "step",
                doc: "leaf value: the step scorer's score of its path, or the verifier's reward of a completion sampled from it"),
    ] + StepSearchSettings.parameters

    let simulations: Int, expansions: Int, cPUCT: Float, rolloutValue: Bool
    let settings: StepSearchSettings

    /// Reads the parameters from `config` (already validated against `parameters`).
    /// Its answer depends on the verifier (when one is given).
    public var selectsWithVerifier: Bool { true }

    public init(config: ComponentConfig) throws {
        simulations = try config.int("simulations")
        expansions = try config.int("expansions")
        cPUCT = try config.float("c_puct")
        rolloutValue = try config.string("value") == "rollout"
        settings = try StepSearchSettings(config: config, strategy: Self.name)
    }

    /// Searches each prompt in turn on its own decoding session. `value=step` needs a step scorer,
    /// `value=rollout` a verifier. Candidates as above; usage: everything the search spent.
    public func search(_ request: SearchRequest) throws -> SearchResult {
        if rolloutValue, request.verifier == nil {
            throw SpecError("mcts: value=rollout needs a verifier (a reward) to score the rollouts")
        }
        if !rolloutValue, request.stepScorer == nil {
            throw SpecError("mcts: value=step needs a step scorer to value leaves (or use value=rollout with a verifier)")
        }
        let sims = request.budget.samplesPerPrompt > 1 ? request.budget.samplesPerPrompt : simulations
        if let cap = request.budget.maxGeneratedTokens, cap < expansions {
            throw SpecError("mcts: a budget of \(cap) generated tokens cannot pay for one expansion of \(expansions) steps (at least \(expansions) tokens)")
        }
        return try StepTree.searchEachPrompt(strategy: Self.name, request: request, settings: settings, scorer: request.stepScorer) { tree in
            var search = PUCTSearch(tree: tree, request: request, promptIndex: tree.promptIndex, expansions: expansions, cPUCT: cPUCT,
                                    rolloutValue: rolloutValue)
            for _ in 0..<sims {
                guard try search.simulate() else { break }
            }
            return (try search.answer(), search.failures)
        }
    }
}

/// The tree and statistics of one prompt's MCTS.
struct PUCTSearch {
    struct Node {
        var step: StepNode
        var parent: Int?
        var children: [Int] = []
        var prior: Float = 1
        var visits = 0
        var valueSum: Float = 0
        var expanded = false
        /// The value of a finished solution, computed once.
        var terminalValue: Float?
        /// The mean value of its simulations (0 before any; selection uses the parent's instead).
        var q: Float { visits > 0 ? valueSum / Float(visits) : 0 }
    }

    let tree: StepTree
    let request: SearchRequest
    let promptIndex: Int
    let expansions: Int
    let cPUCT: Float
    let rolloutValue: Bool
    private(set) var nodes: [Node]
    private(set) var failures: [String] = []

    init(tree: StepTree, request: SearchRequest, promptIndex: Int, expansions: Int, cPUCT: Float, rolloutValue: Bool) {
        self.tree = tree
        self.request = request
        self.promptIndex = promptIndex
        self.expansions = expansions
        self.cPUCT = cPUCT
        self.rolloutValue = rolloutValue
        nodes = [Node(step: tree.root, parent: nil)]
    }

    /// The child of `i` with the largest PUCT score (the earliest among equals); an unvisited
    /// child is valued at `i`'s mean value (first-play urgency).
    func select(_ i: Int) -> Int {
        let sqrtN = Float(nodes[i].visits).squareRoot()
        let firstPlay = nodes[i].q
        var best = nodes[i].children[0], bestScore = -Float.infinity
        for c in nodes[i].children {
            let n = nodes[c]
            let q = n.visits > 0 ? n.q : firstPlay
            let u = q + cPUCT * n.prior * sqrtN / Float(1 + n.visits)
            if u > bestScore { best = c; bestScore = u }
        }
        return best
    }

    /// One selection, expansion, evaluation and backup; false (and nothing done) when the budget
    /// cannot pay for the expansion the simulation needs.
    mutating func simulate() throws -> Bool {
        if tree.budgetExhausted { return false }
        var path = [0], i = 0
        while nodes[i].expanded, !nodes[i].children.isEmpty {
            i = select(i)
            path.append(i)
        }
        let v: Float
        if nodes[i].step.isComplete {
            v = try terminalValue(i)
        } else {
            guard tree.canGrow(rows: expansions) else { return false }
            try expand(i)
            v = try value(of: i)
        }
        for j in path {
            nodes[j].visits += 1
            nodes[j].valueSum += v
        }
        return true
    }

    /// Samples `expansions` steps from node `i`; priors P = softmax of the steps' log-probabilities.
    private mutating func expand(_ i: Int) throws {
        let children = try tree.expand([nodes[i].step], copies: expansions)[0]
        let m = children.map(\.stepLogprob).max() ?? 0
        let weights = children.map { Foundation.exp($0.stepLogprob - m) }
        let total = weights.reduce(0, +)
        for (c, w) in zip(children, weights) {
            nodes.append(Node(step: c, parent: i, prior: w / total))
            nodes[i].children.append(nodes.count - 1)
        }
        nodes[i].expanded = true
    }

    /// The value of open node `i` (0 for the prompt itself under `value=step`: it has no steps).
    private mutating func value(of i: Int) throws -> Float {
        if rolloutValue { return try reward(of: nodes[i].step, completing: true) }
        guard !nodes[i].step.steps.isEmpty, let scorer = request.stepScorer else { return 0 }
        var one = [nodes[i].step]
        try tree.score(&one, with: scorer)
        nodes[i].step.score = one[0].score
        return one[0].score ?? 0
    }

    /// The value of finished node `i`: the verifier's reward when there is a verifier, else its
    /// aggregated step score.
    private mutating func terminalValue(_ i: Int) throws -> Float {
        if let v = nodes[i].terminalValue { return v }
        let v: Float
        if request.verifier != nil {
            v = try reward(of: nodes[i].step, completing: false)
        } else {
            v = try value(of: i)
        }
        nodes[i].terminalValue = v
        nodes[i].step.score = v
        return v
    }

    /// The verifier's reward of `step`'s solution (completed by sampling first when `completing`
    /// and it is open); a reward that throws or abstains is a failure valued 0.
    private mutating func reward(of step: StepNode, completing: Bool) throws -> Float {
        var text = step.steps.joined(separator: tree.separator), ids = step.tokenIDs
        if completing, !step.isComplete, let finished = try complete(step) {
            text = finished.steps.joined(separator: tree.separator)
            ids = finished.tokenIDs
            tree.release([finished])
        }
        guard let verifier = request.verifier else { return 0 }
        let columns = request.columns.mapValues { [$0[promptIndex]] }
        do {
            let scores = try verifier.score(RewardBatch(prompts: [request.prompts[promptIndex]], completions: [text],
                                                        completionTokenIDs: [ids], columns: columns))
            if let s = scores.first, let v = s { return v }
            failures.append("mcts: prompt \(promptIndex), candidate \(String(reflecting: text)): the verifier gave no score")
        } catch {
            failures.append("mcts: prompt \(promptIndex), candidate \(String(reflecting: text)): scoring failed: \(error)")
        }
        return 0
    }

    /// `step` continued to the end of its solution on a forked row (the rest is one last step),
    /// within `max_new_tokens` and the budget's remaining tokens; nil when neither leaves a token.
    private func complete(_ step: StepNode) throws -> StepNode? {
        let allowed = min(request.generation.maxNewTokens - step.tokenIDs.count, tree.tokensLeft ?? Int.max)
        guard allowed >= 1 else { return nil }
        var options = request.generation
        options.numReturnSequences = 1
        options.maxNewTokens = allowed
        options.minNewTokens = 0
        let row: Int, rest: GeneratedSequence
        do {
            row = try tree.session.fork([step.row], copies: 1)[0][0]
            rest = try tree.session.decode([row], options: options)[0]
        } catch {
            throw StepTree.located(error, strategy: tree.strategy, prompt: tree.promptIndex)
        }
        var done = step
        done.row = row
        done.steps.append(rest.text)
        done.tokenIDs += rest.tokenIDs
        done.logprobs += rest.tokenLogprobs
        done.finish = rest.finishReason
        return done
    }

    /// Visit counts decide: the most visited child from the prompt down (higher Q, then the
    /// earlier child, among equals) while one was visited, completed when it stops short; then the
    /// other finished solutions by value.
    func answer() throws -> [ScoredCandidate] {
        var i = 0
        while let best = nodes[i].children.max(by: { a, b in
            (nodes[a].visits, nodes[a].q, -a) < (nodes[b].visits, nodes[b].q, -b)
        }), nodes[best].visits > 0 {
            i = best
        }
        var chosen = nodes[i].step
        if !chosen.isComplete, let finished = try complete(chosen) { chosen = finished }
        var out = [ScoredCandidate(sequence: chosen.sequence(separator: tree.separator), score: nodes[i].q)]
        let others = nodes.indices.filter { $0 != i && nodes[$0].step.isComplete && nodes[$0].visits > 0 }
            .sorted { nodes[$0].q > nodes[$1].q }
        out += others.map { ScoredCandidate(sequence: nodes[$0].step.sequence(separator: tree.separator), score: nodes[$0].q) }
        return out
    }
}
