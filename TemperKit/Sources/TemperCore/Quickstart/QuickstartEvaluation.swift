import Foundation

/// One evaluation of the pipeline: the model on the held-out problems through the search plugins
/// and `SearchSweep`, as `temper eval` runs them, into an ordinary eval output folder.
///
/// - pass@1: the greedy answer's accuracy (`greedy`, budget 1);
/// - maj@N: `self-consistency` over N samples — the most frequent final answer (Wang et al. 2023);
/// - best-of-N: `best-of-n` over N samples selected with the task's verifier (Cobbe et al. 2021),
///   here the task's exact checker itself, so its rows say "(oracle verifier)": it equals pass@N;
/// - tokens/answer: tokens the greedy answer generated (the searches spend about N times as many;
///   the folder's summary.csv has every strategy's).
struct QuickstartEvaluation {
    /// The table's columns for N samples.
    static func columns(samples: Int, search: Bool) -> [String] {
        search ? ["pass@1", "maj@\(samples)", "best-of-\(samples)", "tokens/answer"] : ["pass@1", "tokens/answer"]
    }

    let data: QuickstartData
    /// Grades every answer and, for best-of-N, selects (an oracle verifier).
    let reward: RewardSum
    let samples: Int
    let temperature: Float
    let maxNewTokens: Int

    /// Evaluates `pretrained` with sampling seed `seed`, writes `folder`, and returns the stage's
    /// figures by column name. `progress` receives a line per finished item.
    func run(_ pretrained: PretrainedModel, seed: UInt64, search: Bool, folder: URL, registry: ComponentRegistry,
             progress: (String) -> Void) throws -> [String: Double] {
        let handle = PretrainedModelHandle(pretrained)
        let prompts = try data.heldOut.map { try handle.renderChat([ChatMessage(role: "user", content: $0.prompt)]) }
        let columns = data.heldOutColumns
        var items: [SweepItemRecord] = []
        let show = { (p: SearchSweep.Progress) in progress("\(p.search) \(p.done)/\(p.total) items, \(p.correct) correct") }

        let greedy = try SearchSweep(searches: ["greedy"], budgets: [1], seeds: 1,
                                     generation: GenerationOptions(maxNewTokens: maxNewTokens, temperature: 0, seed: seed), reward: reward)
        var rows = try greedy.run(model: handle, prompts: prompts, columns: columns, registry: registry, progress: show,
                                  record: { items.append($0) }).rows
        var figures = ["pass@1": rows[0].accuracy.mean, "tokens/answer": rows[0].tokensPerAnswer.mean]
        if search {
            var sweep = try SearchSweep(searches: ["self-consistency", "best-of-n"], budgets: [samples], seeds: 1,
                                        generation: GenerationOptions(maxNewTokens: maxNewTokens, temperature: temperature, seed: seed),
                                        reward: reward)
            sweep.verifier = reward
            sweep.verifierLabel = "oracle"
            let searched = try sweep.run(model: handle, prompts: prompts, columns: columns, registry: registry, progress: show,
                                         record: { items.append($0) }).rows
            figures["maj@\(samples)"] = searched[0].accuracy.mean
            figures["best-of-\(samples)"] = searched[1].accuracy.mean
            rows += searched
        }
        try EvalOutputFolder.write(rows: rows, items: items, title: "\(data.taskSpec), \(data.heldOut.count) held-out problems, seed \(seed)",
                                   to: folder)
        return figures
    }
}
