import Foundation

/// The charts of one or more training runs' metrics.jsonl, grouped in the report's sections. One
/// run: a colour per metric key. Several runs overlaid: a colour per run (the legend names its
/// folder) and a dash pattern per key. Keys no chart claims are drawn under "Other logged metrics",
/// so nothing a run logged is hidden.
public enum TrainingCharts {
    /// A chart: its title, y label, and which logged keys it draws.
    struct Spec {
        var title: String
        var yLabel: String
        var matches: (String) -> Bool
        /// Also draws proxy − gold where both are logged.
        var withGap = false

        init(_ title: String, _ yLabel: String, keys: [String] = [], withGap: Bool = false, matches: ((String) -> Bool)? = nil) {
            self.title = title
            self.yLabel = yLabel
            self.withGap = withGap
            self.matches = { key in keys.contains(key) || (matches?(key) ?? false) }
        }
    }

    /// The keys that are bookkeeping, not metrics.
    static let bookkeeping: Set<String> = ["step", "epoch", "num_tokens"]

    /// Sections in report order, each with its charts (keys left over are drawn one chart each after them).
    static let sections: [(heading: String, specs: [Spec])] = [
        ("Training", [
            Spec("Loss", "loss", keys: ["loss", "eval_loss"]),
            Spec("Learning rate", "learning rate", keys: ["learning_rate"]),
            Spec("Gradient norm", "‖g‖ (before clipping)", keys: ["grad_norm"]),
            Spec("Throughput", "tokens / s", matches: { $0.hasSuffix("tokens_per_second") }),
        ]),
        ("Reinforcement learning", [
            Spec("Reward: total and per function", "mean reward", keys: ["reward"],
                 matches: { $0.hasPrefix("rewards/") && $0.hasSuffix("/mean") && $0.split(separator: "/").count == 3 }),
            Spec("KL to the reference", "KL", keys: ["kl", "objective/kl"]),
            Spec("Entropy", "nats per token", keys: ["entropy"]),
            Spec("Completion length", "tokens", keys: ["completions/mean_length", "completions/min_length", "completions/max_length"]),
            Spec("Clip fraction", "fraction", keys: ["completions/clipped_ratio", "val/clipfrac_avg"], matches: { $0.hasPrefix("clip_ratio/") }),
        ]),
        ("Reward hacking: proxy reward against the gold verifier", [
            Spec("Proxy vs gold reward", "mean reward", keys: ["reward", "gold_reward"], withGap: true),
        ]),
        ("Forgetting: perplexity on held-out general text", [
            Spec("General-text perplexity", "perplexity", keys: ["general_perplexity"]),
        ]),
    ]

    /// The charts of `runs` (label, metrics) by section; empty charts and sections are left out.
    /// The hacking chart needs `gold_reward`, so it appears only for runs that logged it.
    public static func charts(runs: [(label: String, table: MetricsTable)]) -> [(heading: String, charts: [LineChart])] {
        var claimed = bookkeeping.union(["general_perplexity_before", "general_perplexity_change"])
        var out: [(heading: String, charts: [LineChart])] = []
        let allKeys = Array(Set(runs.flatMap { $0.table.keys })).sorted()
        for section in sections {
            var charts: [LineChart] = []
            for spec in section.specs {
                if spec.withGap && !allKeys.contains("gold_reward") { continue }
                let keys = ordered(allKeys.filter(spec.matches))
                claimed.formUnion(keys)
                if let chart = chart(spec.title, yLabel: spec.yLabel, keys: keys, runs: runs, withGap: spec.withGap) { charts.append(chart) }
            }
            if !charts.isEmpty { out.append((section.heading, charts)) }
        }
        let rest = allKeys.filter { !claimed.contains($0) }
        let evalKeys = rest.filter { $0.hasPrefix("eval_") }
        let evalCharts = evalKeys.compactMap { chart($0, yLabel: $0, keys: [$0], runs: runs, withGap: false) }
        if !evalCharts.isEmpty { out.append(("Evaluation during training", evalCharts)) }
        let otherCharts = rest.filter { !$0.hasPrefix("eval_") }.compactMap { chart($0, yLabel: $0, keys: [$0], runs: runs, withGap: false) }
        if !otherCharts.isEmpty { out.append(("Other logged metrics", otherCharts)) }
        return out
    }

    /// The headline keys first (loss before eval_loss, reward before gold and the per-function means),
    /// then the rest alphabetically, so a chart's first colour is its main line.
    static func ordered(_ keys: [String]) -> [String] {
        let preferred = ["loss", "eval_loss", "reward", "gold_reward", "kl", "completions/mean_length"]
        return keys.sorted { a, b in
            let (ia, ib) = (preferred.firstIndex(of: a) ?? preferred.count, preferred.firstIndex(of: b) ?? preferred.count)
            return ia != ib ? ia < ib : a < b
        }
    }

    /// One chart of `keys` over steps for every run, or nil when nothing finite was logged.
    static func chart(_ title: String, yLabel: String, keys: [String], runs: [(label: String, table: MetricsTable)], withGap: Bool) -> LineChart? {
        guard !keys.isEmpty else { return nil }
        var lines: [(key: String, perRun: [(run: Int, points: [(x: Double, y: Double, error: Double?)])])] = keys.map { key in
            (key, runs.indices.map { ($0, runs[$0].table.series(key)) })
        }
        if withGap {
            lines.append(("gap (proxy − gold)", runs.indices.map { i in
                let gold = Dictionary(runs[i].table.series("gold_reward").map { ($0.x, $0.y) }, uniquingKeysWith: { _, last in last })
                return (i, runs[i].table.series("reward").compactMap { p in gold[p.x].map { (p.x, p.y - $0, nil) } })
            }))
        }
        var series: [LineChart.Series] = []
        for (k, line) in lines.enumerated() {
            for (run, points) in line.perRun where !points.isEmpty {
                if runs.count == 1 {
                    series.append(.init(name: line.key, colour: LineChart.palette[k % LineChart.palette.count], points: points))
                } else {
                    series.append(.init(name: lines.count == 1 ? runs[run].label : "\(runs[run].label) · \(line.key)",
                                        colour: LineChart.palette[run % LineChart.palette.count],
                                        dash: LineChart.dashes[k % LineChart.dashes.count], points: points))
                }
            }
        }
        let chart = LineChart(title: title, xLabel: "step", yLabel: yLabel, series: series)
        return chart.svg() == nil ? nil : chart
    }
}
