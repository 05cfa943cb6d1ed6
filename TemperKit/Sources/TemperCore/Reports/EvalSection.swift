import Foundation

/// An eval's section: accuracy against generated tokens per answer for every strategy (the
/// inference-time trade-off), overlaid across runs, and the summary.csv table.
enum EvalSection {
    static func html(_ runs: [RunFolder]) -> String {
        let content = content(runs)
        return content.isEmpty ? "" : ReportPage.section("Inference-time trade-off: accuracy against compute", content)
    }

    /// The chart and tables without a heading (a quickstart stage puts them under its own).
    static func content(_ runs: [RunFolder]) -> String {
        let evals = runs.filter { $0.sweep != nil }
        guard !evals.isEmpty else { return "" }
        var charts: [LineChart] = []
        if evals.count == 1, let rows = evals[0].sweep {
            charts.append(AccuracyComputeChart.chart(rows, title: "Accuracy vs tokens per answer"))
        } else {
            var colour = 0
            var merged = AccuracyComputeChart.chart([], title: "Accuracy vs tokens per answer")
            for run in evals {
                let part = AccuracyComputeChart.chart(run.sweep ?? [], title: "", label: run.label, firstColour: colour)
                merged.series += part.series
                colour += part.series.count
            }
            charts.append(merged)
        }
        var content = ReportPage.charts(charts)
        func pct(_ m: MeanSpread) -> String { String(format: "%.1f ± %.1f", 100 * m.mean, 100 * m.std) }
        for run in evals {
            if evals.count > 1 { content += "<h3>\(HTMLText.escape(run.label))</h3>\n" }
            content += ReportPage.table(
                header: ["strategy", "budget", "accuracy %", "pass@1 %", "pass@k %", "maj@k %", "tokens / answer", "seconds"],
                rows: (run.sweep ?? []).map { r in
                    [r.search, String(r.budget), pct(r.accuracy), pct(r.passAt1), pct(r.passAtK), pct(r.majAtK),
                     String(format: "%.1f", r.tokensPerAnswer.mean), String(format: "%.1f", r.wallSeconds.mean)]
                })
        }
        return content
    }
}
