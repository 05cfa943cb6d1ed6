import Foundation

/// Runs every strategy at every budget and seed over a set of prompts and grades the answers with
/// a reward: the engine of `temper eval`. It works on any `LanguageModelHandle`, so tests drive it
/// with a scripted model and the command with a loaded one.
///
/// Each item is searched alone (one request per prompt), so its compute is exact; a strategy's
/// N samples of it still come from one batched decode.
public struct SearchSweep {
    /// Strategy specs, in the order of the report.
    public var searches: [String]
    /// Samples per prompt to run each strategy with.
    public var budgets: [Int]
    /// Seeds per (strategy, budget): `generation.seed`, `generation.seed + 1`, ...
    public var seeds: Int
    /// Sampling settings for every search.
    public var generation: GenerationOptions
    /// Grades answers; never seen by the strategies (unless it is also `verifier`, an oracle).
    public var reward: any RewardScoring
    /// What strategies such as best-of-n select with; nil when they get none (they then say so).
    public var verifier: (any RewardScoring)?
    /// How rows of strategies that select with `verifier` are labelled ("oracle" when it is the
    /// grading reward): "best-of-n (oracle verifier)", so a figure won by peeking at the grader says so.
    public var verifierLabel: String?
    /// Reads the answers maj@k votes over when a strategy's spec sets no `extract` of its own
    /// (the grading reward's reader, so the vote counts answers as the grade reads them).
    public var answerReader = MathAnswerReader()
    /// A score at or above this is a correct answer.
    public var passThreshold: Float
    /// When set, the sweep also estimates each item's difficulty from this many verified samples
    /// and builds the `compute-optimal` routing table over `bins` bins.
    public var probeSamples: Int?
    /// Difficulty bins of the routing table (Snell et al. use 5).
    public var bins: Int
    /// Scores partial solutions for step-level strategies (beam, dvts, mcts); nil for none.
    public var stepScorer: (any StepScoring)?

    /// A sweep; errors name what is out of range.
    public init(searches: [String], budgets: [Int], seeds: Int, generation: GenerationOptions, reward: any RewardScoring,
                passThreshold: Float = 1, probeSamples: Int? = nil, bins: Int = 5) throws {
        guard !searches.isEmpty else { throw SpecError("eval: needs at least one --search") }
        guard !budgets.isEmpty, budgets.allSatisfy({ $0 >= 1 }) else {
            throw SpecError("eval: budgets must be positive sample counts, got \(budgets.map(String.init).joined(separator: ","))")
        }
        guard seeds >= 1 else { throw SpecError("eval: --seeds must be at least 1, got \(seeds)") }
        if let p = probeSamples, p < 1 { throw SpecError("eval: --probe-samples must be at least 1, got \(p)") }
        guard bins >= 1 else { throw SpecError("eval: --bins must be at least 1, got \(bins)") }
        self.searches = searches
        self.budgets = budgets
        self.seeds = seeds
        self.generation = generation
        self.reward = reward
        self.passThreshold = passThreshold
        self.probeSamples = probeSamples
        self.bins = bins
    }

    /// Where a sweep is, for a progress line.
    public struct Progress: Sendable {
        /// The strategy running.
        public var search: String
        /// Its budget.
        public var budget: Int
        /// Its seed.
        public var seed: UInt64
        /// Items done in this (strategy, budget, seed).
        public var done: Int
        /// Items in all.
        public var total: Int
        /// Correct answers so far in this (strategy, budget, seed).
        public var correct: Int
    }

    /// What a sweep produces.
    public struct Outcome {
        /// One row per (strategy, budget), over seeds, in run order.
        public var rows: [SweepRow]
        /// The routing table, when `probeSamples` was set.
        public var table: ComputeOptimalTable?
        /// Compute spent on the difficulty probes (not part of any row).
        public var probeUsage: ComputeUsage
    }

    /// Runs the sweep over `prompts` (already rendered) with their `columns`; `record` receives each
    /// graded item as it is done.
    public func run(model: any LanguageModelHandle, prompts: [String], columns: [String: [ColumnValue]],
                    registry: ComponentRegistry = .shared, progress: (Progress) -> Void = { _ in },
                    record: (SweepItemRecord) throws -> Void = { _ in }) throws -> Outcome {
        guard !prompts.isEmpty else { throw SpecError("eval: no prompts to evaluate") }
        let strategies = try searches.map { try registry.search($0) }
        var rows: [SweepRow] = []
        var records: [SweepItemRecord] = []
        for (s, strategy) in strategies.enumerated() {
            for budget in budgets {
                var perSeed: [[SweepItemRecord]] = []
                var seconds: [Double] = []
                for seedIndex in 0..<seeds {
                    let seed = generation.seed &+ UInt64(seedIndex)
                    let start = Date()
                    var done: [SweepItemRecord] = []
                    for i in prompts.indices {
                        let r = try searchItem(i, strategy, spec: searches[s], budget: budget, seed: seed, model: model,
                                               prompt: prompts[i], columns: columns.mapValues { [$0[i]] })
                        try record(r)
                        done.append(r)
                        progress(Progress(search: searches[s], budget: budget, seed: seed, done: i + 1, total: prompts.count,
                                          correct: done.filter(\.correct).count))
                    }
                    seconds.append(Date().timeIntervalSince(start))
                    perSeed.append(done)
                    records += done
                }
                rows.append(Self.row(label(searches[s], strategy), budget: budget, perSeed: perSeed, seconds: seconds))
            }
        }
        guard let probeSamples else { return Outcome(rows: rows, table: nil, probeUsage: ComputeUsage()) }
        let before = model.usage
        let table = try routingTable(records, probeSamples: probeSamples, model: model, prompts: prompts, columns: columns, registry: registry)
        return Outcome(rows: rows, table: table, probeUsage: model.usage - before)
    }

    /// The row name of `spec`: with its verifier when the strategy selects with one.
    func label(_ spec: String, _ strategy: any SearchStrategy) -> String {
        guard strategy.selectsWithVerifier, verifier != nil, let verifierLabel else { return spec }
        return "\(spec) (\(verifierLabel == "oracle" ? "oracle verifier" : "verifier: " + verifierLabel))"
    }

    /// Searches item `i` (the strategy selecting with `verifier`) and grades every candidate with `reward`.
    func searchItem(_ i: Int, _ strategy: any SearchStrategy, spec: String, budget: Int, seed: UInt64, model: any LanguageModelHandle,
                    prompt: String, columns: [String: [ColumnValue]]) throws -> SweepItemRecord {
        var options = generation
        options.seed = Self.itemSeed(seed, item: i)
        var request = SearchRequest(model: model, prompts: [prompt], columns: columns, verifier: verifier, stepScorer: stepScorer,
                                    budget: SearchBudget(samplesPerPrompt: budget), generation: options)
        let start = Date()
        let result = try strategy.search(request)
        guard let candidates = result.candidates.first, !candidates.isEmpty else {
            throw SpecError("eval: \(spec) returned no candidate for item \(i)")
        }
        var grader = CandidateScorer(strategy: "eval")
        request.verifier = reward
        let scores = try grader.score(candidates.map(\.sequence), prompt: 0, of: request)
        let correct = scores.map { ($0 ?? -.infinity) >= passThreshold }
        let c = correct.filter { $0 }.count
        let groups = AnswerGroups(candidates.map(\.sequence.text), reader: try Self.answerReader(ofSpec: spec) ?? answerReader)
        let ranked = groups.ranked { Float($0.members.count) }
        // Among answers tied for the most votes, the one whose text sorts first: a tie broken by the
        // strategy's ranking would lean to the verifier's pick (with the oracle, the right answer).
        let majority = ranked.prefix { $0.weight == ranked[0].weight }.min { $0.group.answer.text < $1.group.answer.text }?.group.members.first
        return SweepItemRecord(
            search: spec, budget: budget, seed: seed, item: i, answer: candidates[0].sequence.text, answerScore: scores[0],
            correct: correct[0], candidates: candidates.count, correctCandidates: c,
            passAt1: try passAtK(samples: candidates.count, correct: c, k: 1),
            passAtK: try passAtK(samples: candidates.count, correct: c, k: candidates.count),
            majorityCorrect: majority.map { correct[$0] } ?? false, usage: result.usage, seconds: Date().timeIntervalSince(start),
            scoringFailures: (result.failures + grader.failures).map { "item \(i): \($0)" })
    }

    /// The answer reader a component spec's `extract` setting names (self-consistency's,
    /// weighted-best-of-n's, math-equiv's); nil when the spec sets none. maj@k votes with the
    /// strategy's own, else with `answerReader`.
    public static func answerReader(ofSpec spec: String) throws -> MathAnswerReader? {
        guard let setting = try ComponentSpec(parsing: spec).settings.last(where: { $0.key == "extract" }) else { return nil }
        guard case .text(let raw) = setting.value, let mode = MathExtractionMode(rawValue: raw) else {
            throw SpecError("\(spec): extract must be one of \(MathExtractionMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(setting.value)'")
        }
        return MathAnswerReader(extract: mode)
    }

    /// The sampler seed of item `i` in the run with `seed`: a different stream per item, so the
    /// items of one run are independent draws (with one seed for all, sample k of every item
    /// would reuse the same random numbers and the items' errors would be correlated).
    public static func itemSeed(_ seed: UInt64, item i: Int) -> UInt64 {
        // SplitMix64's finalizer over (seed, item): nearby inputs give unrelated seeds.
        var z = seed &+ UInt64(i + 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The figures of one (strategy, budget) over its seeds.
    static func row(_ search: String, budget: Int, perSeed: [[SweepItemRecord]], seconds: [Double]) -> SweepRow {
        func over(_ f: (SweepItemRecord) -> Double) -> MeanSpread {
            MeanSpread(perSeed.map { records in records.reduce(0) { $0 + f($1) } / Double(records.count) })
        }
        return SweepRow(search: search, budget: budget, seeds: perSeed.count,
                        accuracy: over { $0.correct ? 1 : 0 }, passAt1: over(\.passAt1), passAtK: over(\.passAtK),
                        majAtK: over { $0.majorityCorrect ? 1 : 0 }, tokensPerAnswer: over { Double($0.usage.tokensGenerated) },
                        tokensScoredPerAnswer: over { Double($0.usage.tokensScored) },
                        forwardPassesPerAnswer: over { Double($0.usage.forwardPasses) }, wallSeconds: MeanSpread(seconds))
    }

    /// Bins every (item, seed) by the difficulty its probes show, then picks per bin and budget the
    /// strategy with the highest accuracy there (fewer tokens on a tie). compute-optimal itself is
    /// never a choice.
    func routingTable(_ records: [SweepItemRecord], probeSamples: Int, model: any LanguageModelHandle, prompts: [String],
                      columns: [String: [ColumnValue]], registry: ComponentRegistry) throws -> ComputeOptimalTable {
        guard let verifier else { throw SpecError("eval: the routing table estimates question difficulty with the verifier: give one") }
        let sampler = try registry.search("sampling")
        let shape = ComputeOptimalTable(probeSamples: probeSamples, bins: bins, choices: [])
        var binOf: [String: Int] = [:]
        for seedIndex in 0..<seeds {
            let seed = generation.seed &+ UInt64(seedIndex)
            for i in prompts.indices {
                var options = generation
                // Probes draw other numbers than the searches of the same item and seed.
                options.seed = Self.itemSeed(~seed, item: i)
                let probe = try sampler.search(SearchRequest(model: model, prompts: [prompts[i]], columns: columns.mapValues { [$0[i]] },
                                                             verifier: verifier, budget: SearchBudget(samplesPerPrompt: probeSamples),
                                                             generation: options))
                binOf["\(i)/\(seed)"] = shape.bin(ofDifficulty: ComputeOptimalTable.difficulty(probeScores: probe.candidates[0].map(\.score)))
            }
        }
        var choices: [ComputeOptimalTable.Choice] = []
        for bin in 0..<bins {
            for budget in budgets {
                var best: ComputeOptimalTable.Choice?
                for search in searches where (try? ComponentSpec(parsing: search).name) != "compute-optimal" {
                    let here = records.filter { $0.search == search && $0.budget == budget && binOf["\($0.item)/\($0.seed)"] == bin }
                    guard !here.isEmpty else { continue }
                    let accuracy = Double(here.filter(\.correct).count) / Double(here.count)
                    let tokens = Double(here.reduce(0) { $0 + $1.usage.tokensGenerated }) / Double(here.count)
                    if best == nil || accuracy > best!.accuracy || (accuracy == best!.accuracy && tokens < best!.tokensPerAnswer) {
                        best = .init(bin: bin, budget: budget, search: search, accuracy: accuracy, tokensPerAnswer: tokens, items: here.count)
                    }
                }
                if let best { choices.append(best) }
            }
        }
        return ComputeOptimalTable(probeSamples: probeSamples, bins: bins, choices: choices)
    }
}
