import TemperCore

/// One prompt's step-level search over a decoding session: grows nodes a step at a time (fork,
/// then one batched decode), scores them with the step scorer (a candidate it fails on is scored
/// nil and counted), and watches the budget. Beam, DVTS, lookahead, MCTS and tree of thoughts are
/// policies over it.
final class StepTree {
    let strategy: String
    let request: SearchRequest
    let promptIndex: Int
    let session: any DecodingSession
    let settings: StepSearchSettings
    /// The separator steps are generated up to and joined with.
    let separator: String
    /// Candidates whose scoring failed, with the reason.
    private(set) var failures: [String] = []
    /// The prompt as a node without steps.
    let root: StepNode
    private let start: ComputeUsage

    /// Starts a session on prompt `promptIndex` of `request`, generating steps up to `scorer`'s
    /// separator (or the settings' when the scorer cuts steps by a regex).
    init(strategy: String, request: SearchRequest, promptIndex: Int, settings: StepSearchSettings, scorer: (any StepScoring)?) throws {
        self.strategy = strategy
        self.request = request
        self.promptIndex = promptIndex
        self.settings = settings
        if case .separator(let s)? = scorer?.segmentation { separator = s } else { separator = settings.separator }
        guard request.generation.maxNewTokens >= 1 else {
            throw SpecError("\(strategy): max_new_tokens must be ≥ 1 for a step search (it caps each solution's tokens), got \(request.generation.maxNewTokens)")
        }
        start = request.model.usage
        let ids = try request.model.tokenize(request.prompts[promptIndex])
        do { session = try request.model.startSession(prompts: [ids]) } catch {
            throw Self.located(error, strategy: strategy, prompt: promptIndex)
        }
        root = StepNode(row: session.rows[0])
    }

    /// Compute spent on this prompt so far.
    var spent: ComputeUsage { request.model.usage - start }

    /// Generated tokens the budget still allows this prompt (nil: no cap).
    var tokensLeft: Int? { request.budget.maxGeneratedTokens.map { max($0 - spent.tokensGenerated, 0) } }

    /// Whether the budget can pay for `rows` new rows of at least one token each: the forward-pass
    /// cap is not reached and at least `rows` generated tokens remain.
    func canGrow(rows: Int) -> Bool {
        if let cap = request.budget.maxForwardPasses, spent.forwardPasses >= cap { return false }
        return tokensLeft.map { $0 >= max(rows, 1) } ?? true
    }

    /// Whether not even one more token can be paid for.
    var budgetExhausted: Bool { !canGrow(rows: 1) }

    /// `copies` one-step continuations of each of `parents` (open nodes); `result[i]` are
    /// `parents[i]`'s children. `temperature` overrides the request's (greedy lookahead rollouts).
    ///
    /// A step's tokens are capped three ways: `step_tokens`; the rest of `max_new_tokens`, a total
    /// per solution; and the budget's remaining generated tokens shared evenly by the new rows,
    /// so that `maxGeneratedTokens` holds exactly. Parents with the same cap decode as one batch
    /// (all of them when no solution is near `max_new_tokens`). Call only when `canGrow(rows:)`
    /// holds for `parents.count × copies` rows.
    func expand(_ parents: [StepNode], copies: Int, temperature: Float? = nil) throws -> [[StepNode]] {
        let rowCount = parents.count * copies
        guard canGrow(rows: rowCount) else {
            throw SpecError("\(strategy): internal error: a step of \(rowCount) rows was started past the budget")
        }
        let share = tokensLeft.map { $0 / max(rowCount, 1) } ?? Int.max
        let caps = parents.map { min(settings.stepTokens, request.generation.maxNewTokens - $0.tokenIDs.count, share) }
        if let bad = caps.firstIndex(where: { $0 < 1 }) {
            throw SpecError("\(strategy): internal error: expanding a solution that has spent max_new_tokens (\(parents[bad].tokenIDs.count) tokens)")
        }
        let rows = try session.fork(parents.map(\.row), copies: copies)
        var options = request.generation
        options.numReturnSequences = 1
        options.stopStrings = [separator] + request.generation.stopStrings.filter { $0 != separator }
        options.minNewTokens = 0
        if let temperature { options.temperature = temperature }
        var produced = [GeneratedSequence?](repeating: nil, count: rowCount)
        for cap in Set(caps).sorted() {
            let group = parents.indices.filter { caps[$0] == cap }
            options.maxNewTokens = cap
            let out: [GeneratedSequence]
            do { out = try session.decode(group.flatMap { rows[$0] }, options: options) } catch {
                throw Self.located(error, strategy: strategy, prompt: promptIndex)
            }
            for (k, i) in group.enumerated() {
                for c in 0..<copies { produced[i * copies + c] = out[k * copies + c] }
            }
        }
        return try parents.indices.map { i in
            try rows[i].indices.map { c in
                guard let step = produced[i * copies + c] else {
                    throw SpecError("\(strategy): internal error: row \(rows[i][c]) was not decoded")
                }
                return try child(of: parents[i], row: rows[i][c], step: step)
            }
        }
    }

    /// A session error with the search and prompt it happened in: the session names only its own
    /// row numbering, e.g. when the prompt or the tree grown on it outgrew the model's context.
    static func located(_ error: Error, strategy: String, prompt: Int) -> SpecError {
        SpecError("\(strategy): prompt \(prompt): \(error)")
    }

    private func child(of parent: StepNode, row: Int, step: GeneratedSequence) throws -> StepNode {
        var node = parent
        node.row = row
        node.score = nil
        node.steps.append(step.text)
        node.tokenIDs += step.tokenIDs
        node.logprobs += step.tokenLogprobs
        node.stepLogprob = step.tokenLogprobs.reduce(0, +)
        switch step.finishReason {
        case .stop:
            // A step boundary, unless a stop string of the request ended the whole solution.
            let full = try request.model.detokenize(step.tokenIDs)
            if !full.dropFirst(step.text.count).hasPrefix(separator) { node.finish = .stop }
        case .eos, .length:
            node.finish = step.finishReason
        }
        // The step cap and max_new_tokens (a total over the solution's steps) end it too.
        if node.finish == nil, node.steps.count >= settings.maxSteps || node.tokenIDs.count >= request.generation.maxNewTokens {
            node.finish = .length
        }
        return node
    }

    /// Scores `nodes` (their aggregated step scores) with `scorer`, asking only for the steps each
    /// node has no score for yet; a node the scorer fails on gets nil and a failure message.
    func score(_ nodes: inout [StepNode], with scorer: any StepScoring) throws {
        let solutions = nodes.map { partial($0.steps) }
        let known = nodes.map { min($0.stepScores.count, $0.steps.count) }
        let result = try scorer.scoreStepsIsolatingFailures(solutions, from: known)
        for (i, s) in result.scores.enumerated() {
            guard let s else { nodes[i].score = nil; continue }
            nodes[i].stepScores = Array(nodes[i].stepScores.prefix(known[i])) + s
            nodes[i].score = nodes[i].stepScores.isEmpty ? nil : settings.aggregation.apply(nodes[i].stepScores)
        }
        for f in result.failures {
            failures.append("\(strategy): prompt \(promptIndex), candidate \(String(reflecting: nodes[f.index].steps.joined(separator: separator))): " +
                            "scoring failed: \(f.message)")
        }
    }

    /// `steps` as a partial solution of this prompt, with its dataset columns.
    func partial(_ steps: [String]) -> PartialSolution {
        PartialSolution(prompt: request.prompts[promptIndex], steps: steps,
                        columns: request.columns.compactMapValues { $0.indices.contains(promptIndex) ? $0[promptIndex] : nil })
    }

    /// Frees the rows of `nodes`.
    func release(_ nodes: [StepNode]) { session.release(nodes.map(\.row)) }

    /// The candidates as a search reports them, best first.
    func candidates(_ nodes: [StepNode]) -> [ScoredCandidate] {
        StepNode.ranked(nodes).map { ScoredCandidate(sequence: $0.sequence(separator: separator), score: $0.score) }
    }
}

extension StepTree {
    /// Runs a strategy prompt by prompt, each on a tree (and decoding session) of its own:
    /// `body` searches one tree and returns its candidates, best first, and any failures of its own
    /// beside the tree's. The result's usage is everything the search spent.
    static func searchEachPrompt(strategy: String, request: SearchRequest, settings: StepSearchSettings, scorer: (any StepScoring)?,
                                 _ body: (StepTree) throws -> (candidates: [ScoredCandidate], failures: [String])) throws -> SearchResult {
        let before = request.model.usage
        var candidates: [[ScoredCandidate]] = [], failures: [String] = []
        for p in request.prompts.indices {
            let tree = try StepTree(strategy: strategy, request: request, promptIndex: p, settings: settings, scorer: scorer)
            let found = try body(tree)
            candidates.append(found.candidates)
            failures += tree.failures + found.failures
        }
        return SearchResult(candidates: candidates, usage: request.model.usage - before, failures: failures)
    }
}

/// The step scorer a strategy needs, or an error saying so.
func requireStepScorer(_ request: SearchRequest, _ strategy: String) throws -> any StepScoring {
    guard let scorer = request.stepScorer else {
        throw SpecError("\(strategy): needs a step scorer to rank partial solutions (a PRM, self-evaluation or rollouts)")
    }
    return scorer
}
