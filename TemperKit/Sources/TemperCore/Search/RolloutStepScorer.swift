/// Scores a step by where it leads: from the steps so far, `rollouts` completions are sampled and
/// graded by an outcome reward, and the step's score is their mean reward (Math-Shepherd's soft
/// estimate, Wang et al. 2024, "Math-Shepherd: Verify and Reinforce LLMs Step-by-step without
/// Human Annotations"). All rollouts of all steps are sampled in one batched `generate`.
public final class RolloutStepScorer: StepScoring {
    /// The policy that rolls out.
    public let model: any LanguageModelHandle
    /// Grades finished solutions (sees the solution's columns, e.g. `answer`).
    public let reward: any RewardScoring
    /// Completions per step.
    public let rollouts: Int
    /// Sampling settings of the rollouts (`numReturnSequences` is set to `rollouts`).
    public let options: GenerationOptions
    /// How solutions are cut into steps.
    public let segmentation: StepSegmentation

    /// A scorer rolling out `rollouts` completions per step under `options`, graded by `reward`.
    public init(model: any LanguageModelHandle, reward: any RewardScoring, rollouts: Int = 4,
                options: GenerationOptions = GenerationOptions(maxNewTokens: 256), segmentation: StepSegmentation = .separator("\n\n")) throws {
        guard rollouts >= 1 else { throw SpecError("rollout step scorer: rollouts must be ≥ 1, got \(rollouts)") }
        self.model = model
        self.reward = reward
        self.rollouts = rollouts
        self.options = options
        self.segmentation = segmentation
    }

    /// The mean reward of the rollouts from each step; a step whose rollouts the reward scores
    /// none of is an error naming the solution.
    public func scoreSteps(_ solutions: [PartialSolution]) throws -> [[Float]] {
        try scoreSteps(solutions, from: solutions.map { _ in 0 })
    }

    /// The mean reward of the rollouts from the steps of solution i from `from[i]` on: rollouts
    /// start after the step, so the earlier steps' scores do not depend on it.
    public func scoreSteps(_ solutions: [PartialSolution], from: [Int]) throws -> [[Float]] {
        var prefixes: [(solution: Int, step: Int, text: String)] = []
        for (i, s) in solutions.enumerated() {
            for k in s.steps.indices where k >= from[i] {
                prefixes.append((i, k, s.steps[...k].joined(separator: segmentation.joiner) + segmentation.joiner))
            }
        }
        var o = options
        o.numReturnSequences = rollouts
        let samples = try model.generate(prompts: prefixes.map { try model.tokenize(solutions[$0.solution].prompt + $0.text) }, options: o)
        var batch = RewardBatch(prompts: [], completions: [])
        var columns: [String: [ColumnValue]] = [:]
        let names = Set(solutions.flatMap { $0.columns.keys })
        for (p, outs) in zip(prefixes, samples) {
            for seq in outs {
                batch.prompts.append(solutions[p.solution].prompt)
                batch.completions.append(p.text + seq.text)
                batch.completionTokenIDs.append(seq.tokenIDs)
                for name in names { columns[name, default: []].append(solutions[p.solution].columns[name] ?? .null) }
            }
        }
        batch.columns = columns
        let rewards = try reward.score(batch)
        guard rewards.count == batch.count else {
            throw SpecError("rollout step scorer: the reward returned \(rewards.count) scores for \(batch.count) rollouts")
        }
        var means: [[Float]] = solutions.map { _ in [] }
        for (j, p) in prefixes.enumerated() {
            let scored = rewards[j * rollouts..<(j + 1) * rollouts].compactMap { $0 }
            guard !scored.isEmpty else {
                throw SpecError("rollout step scorer: the reward scored none of the \(rollouts) rollouts of solution \(p.solution), step \(p.step + 1)")
            }
            means[p.solution].append(scored.reduce(0, +) / Float(scored.count))
        }
        return means
    }
}
