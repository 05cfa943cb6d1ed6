import Foundation

/// The report's first section: one column per run — what kind of run, the objective, steps, time,
/// tokens and the last value of the headline metrics, then the trainer's settings.
enum RunSummarySection {
    static func html(_ runs: [RunFolder]) -> String {
        var rows: [[String]] = []
        func row(_ name: String, _ value: (RunFolder) -> String?) {
            let values = runs.map(value)
            if values.contains(where: { $0 != nil }) { rows.append([name] + values.map { $0 ?? "–" }) }
        }
        row("kind") { run in
            [run.quickstart.map { _ in "quickstart" }, run.metrics.map { _ in "training" }, run.sweep.map { _ in "eval" }]
                .compactMap { $0 }.joined(separator: " + ")
        }
        row("objective") { $0.record?.objective }
        row("steps") { run in run.record.map { String($0.steps) } ?? run.metrics?.last("step").map { String(Int($0)) } }
        row("time") { $0.record.map { ReportPage.duration($0.seconds) } }
        row("trainable parameters") { $0.record.map { String($0.trainableParameters) } }
        row("tokens trained") { $0.metrics?.last("num_tokens").map { String(Int($0)) } }
        row("epochs") { $0.metrics?.last("epoch").map { String(format: "%.2f", $0) } }
        for key in ["loss", "eval_loss", "reward", "gold_reward", "kl"] {
            row("last \(key)") { $0.metrics?.last(key).map(ReportPage.number) }
        }
        row("eval strategies") { run in run.sweep.map { rows in Set(rows.map(\.search)).count }.map(String.init) }
        row("quickstart task") { $0.quickstart?.task }
        let header = [""] + runs.map(\.label)
        var content = ReportPage.table(header: header, rows: rows)
        // The trainer's settings, folded away: long, and rarely what one looks at first.
        let settings = Set(runs.flatMap { $0.record?.settings.keys.map { $0 } ?? [] }).sorted()
        if !settings.isEmpty {
            let settingRows = settings.map { key in [key] + runs.map { $0.record?.settings[key] ?? "–" } }
            content += "<details><summary>Settings</summary>\n" + ReportPage.table(header: header, rows: settingRows) + "</details>\n"
        }
        return ReportPage.section("Run summary", content)
    }
}
