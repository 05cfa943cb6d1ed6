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
        start = request.model.usage
        let ids = try request.model.tokenize(request.prompts[promptIndex])
        session = try request.model.startSession(prompts: [ids])
        root = StepNode(row: session.rows[0])
    }

    /// Compute spent on this prompt so far.
    var spent: ComputeUsage { request.model.usage - start }

    /// Whether the budget's token or forward-pass cap has been reached.
    var budgetExhausted: Bool {
        let s = spent, b = request.budget
        return (b.maxGeneratedTokens.map { s.tokensGenerated >= $0 } ?? false) || (b.maxForwardPasses.map { s.forwardPasses >= $0 } ?? false)
    }

    /// `copies` one-step continuations of each of `parents` (open nodes), decoded as one batch;
    /// `result[i]` are `parents[i]`'s children. `temperature` overrides the request's (greedy
    /// lookahead rollouts).
    func expand(_ parents: [StepNode], copies: Int, temperature: Float? = nil) throws -> [[StepNode]] {
        let rows = try session.fork(parents.map(\.row), copies: copies)
        var options = request.generation
        options.numReturnSequences = 1
        options.stopStrings = [separator] + request.generation.stopStrings.filter { $0 != separator }
        options.maxNewTokens = min(settings.stepTokens, request.generation.maxNewTokens)
        options.minNewTokens = 0
        if let temperature { options.temperature = temperature }
        let flat = rows.flatMap { $0 }
        let produced = try session.decode(flat, options: options)
        var next = 0
        return try zip(parents, rows).map { parent, children in
            try children.map { row in
                defer { next += 1 }
                return try child(of: parent, row: row, step: produced[next])
            }
        }
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
        if node.finish == nil, node.steps.count >= settings.maxSteps { node.finish = .length }
        return node
    }

    /// Scores `nodes` (their aggregated step scores) with `scorer`; a node the scorer fails on
    /// gets nil and a failure message.
    func score(_ nodes: inout [StepNode], with scorer: any StepScoring) throws {
        let solutions = nodes.map { partial($0.steps) }
        let result = try scorer.scoreStepsIsolatingFailures(solutions)
        for (i, s) in result.scores.enumerated() { nodes[i].score = s.map(settings.aggregation.apply) }
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

/// The step scorer a strategy needs, or an error saying so.
func requireStepScorer(_ request: SearchRequest, _ strategy: String) throws -> any StepScoring {
    guard let scorer = request.stepScorer else {
        throw SpecError("\(strategy): needs a step scorer to rank partial solutions (a PRM, self-evaluation or rollouts)")
    }
    return scorer
}
