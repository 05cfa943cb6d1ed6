import Foundation

/// Accuracy against compute (generated tokens per answer, log₂ axis) for every strategy of a sweep,
/// one line per strategy through its budgets, error bars of one standard deviation over seeds: the
/// standard test-time-scaling plot, drawn by `LineChart` as one self-contained SVG.
public enum AccuracyComputeChart {
    /// The chart of `rows`, titled `title`; each strategy's name is prefixed by `label` when given
    /// (several runs overlaid) and coloured from `palette`, starting at `firstColour`.
    public static func chart(_ rows: [SweepRow], title: String, label: String? = nil, firstColour: Int = 0) -> LineChart {
        var strategies: [String] = []
        for r in rows where !strategies.contains(r.search) { strategies.append(r.search) }
        let series = strategies.enumerated().map { index, name in
            LineChart.Series(name: label.map { "\($0) · \(name)" } ?? name,
                             colour: LineChart.palette[(firstColour + index) % LineChart.palette.count],
                             points: rows.filter { $0.search == name }.map { (max($0.tokensPerAnswer.mean, 1), $0.accuracy.mean, $0.accuracy.std) })
        }
        var chart = LineChart(title: title, xLabel: "generated tokens per answer", yLabel: "accuracy", series: series)
        chart.logX = true
        chart.yFormat = .percent
        chart.width = 760
        chart.height = 420
        chart.legendWidth = 230
        return chart
    }

    /// The SVG text of the chart of `rows`, titled `title` (an empty frame for no rows).
    public static func svg(_ rows: [SweepRow], title: String) -> String {
        chart(rows, title: title).svg() ?? "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"420\"><text x=\"20\" y=\"30\">" +
            "\(HTMLText.escape(title)): no results</text></svg>\n"
    }
}
