import Foundation

/// A quickstart's section: the stage table (mean ± spread over seeds) from quickstart.json, the
/// reward-hacking demonstration when it ran, and every stage's curves, its seeds overlaid.
enum QuickstartSection {
    static func html(_ run: RunFolder) throws -> String {
        guard let q = run.quickstart else { return "" }
        var content = "<p class=\"note\">Task <code>\(HTMLText.escape(q.task))</code>, seeds \(HTMLText.escape(q.seeds.map(String.init).joined(separator: ", "))); " +
            "mean ± sample standard deviation over seeds." + (q.demonstrations.map { " " + HTMLText.escape($0) + "." } ?? "") + "</p>\n"
        let ordered = q.stages.compactMap { stage in q.rows.first { $0.stage == stage } } + q.rows.filter { !q.stages.contains($0.stage) }
        content += ReportPage.table(header: ["stage"] + q.columns, rows: ordered.map { row in
            [row.stage] + q.columns.map { column in
                row.values[column].map { String(format: "%.3g ± %.2g", $0.mean, $0.spread) } ?? "–"
            }
        })
        if let hack = q.hack {
            let folder = try RunFolder(run.url.appendingPathComponent(hack.run), label: hack.run)
            let sections = TrainingCharts.charts(runs: [(hack.run, folder.metrics ?? MetricsTable(entries: []))])
            let shown = sections.filter { $0.heading.hasPrefix("Reward hacking") || $0.heading == "Reinforcement learning" }
            content += "<h3>Reward hacking: trained on the proxy <code>\(HTMLText.escape(hack.proxy))</code></h3>\n"
            content += ReportPage.charts(shown.flatMap(\.charts))
        }
        for (stage, members) in stageGroups(q) {
            var missing: [String] = []
            var folders: [RunFolder] = []
            for (name, path) in members {
                let url = run.url.appendingPathComponent(path)
                if FileManager.default.fileExists(atPath: url.path) {
                    folders.append(try RunFolder(url, label: String(name.split(separator: "/").first ?? Substring(name))))
                } else {
                    missing.append(path)
                }
            }
            var stageContent = missing.isEmpty ? "" : "<p class=\"note\">Missing run folders: \(HTMLText.escape(missing.joined(separator: ", ")))</p>\n"
            let trained = folders.compactMap { f in f.metrics.map { (f.label, $0) } }
            if !trained.isEmpty {
                stageContent += ReportPage.charts(TrainingCharts.charts(runs: trained).flatMap(\.charts))
            }
            stageContent += EvalSection.content(folders)
            content += ReportPage.section("Stage \(stage)", stageContent, level: 3)
        }
        return ReportPage.section("Quickstart: the pipeline stage by stage", content)
    }

    /// The runs grouped by stage (the last part of the run name: `seed-0/sft` → `sft`), stages in
    /// quickstart.json's order first, each group's runs by name.
    static func stageGroups(_ q: QuickstartSummary) -> [(stage: String, runs: [(name: String, path: String)])] {
        var groups: [String: [(name: String, path: String)]] = [:]
        for (name, path) in q.runs {
            let stage = String(name.split(separator: "/").last ?? Substring(name))
            groups[stage, default: []].append((name, path))
        }
        let order = { (stage: String) -> Int in
            q.stages.firstIndex(of: stage) ?? q.stages.firstIndex { stage.hasSuffix("-" + $0) }.map { q.stages.count + $0 } ?? 2 * q.stages.count
        }
        return groups.keys.sorted { (order($0), $0) < (order($1), $1) }.map { ($0, groups[$0]!.sorted { $0.name < $1.name }) }
    }
}
