import Foundation

/// Forgetting, as a table: perplexity on the held-out general-text set before training, after it,
/// and the change (the trainer logs `general_perplexity` at step 0 and at the last step, and
/// `general_perplexity_before` / `_change` in the final entry).
enum ForgettingSection {
    /// Before, after and change of a run, or nil when it logged no general perplexity.
    static func figures(_ table: MetricsTable) -> (before: Double, after: Double, change: Double)? {
        guard let after = table.last("general_perplexity") else { return nil }
        let before = table.last("general_perplexity_before") ?? table.first("general_perplexity") ?? after
        return (before, after, table.last("general_perplexity_change") ?? after - before)
    }

    static func html(_ runs: [RunFolder]) -> String {
        let rows = runs.compactMap { run -> [String]? in
            guard let f = run.metrics.flatMap(figures) else { return nil }
            let relative = f.before == 0 ? "" : String(format: " (%+.1f%%)", 100 * f.change / f.before)
            return [run.label, ReportPage.number(f.before), ReportPage.number(f.after), ReportPage.number(f.change) + relative]
        }
        guard !rows.isEmpty else { return "" }
        return ReportPage.table(header: ["run", "perplexity before", "after", "change"], rows: rows)
    }
}
