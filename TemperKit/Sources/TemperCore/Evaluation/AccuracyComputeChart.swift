import Foundation

/// Accuracy against compute (generated tokens per answer, log₂ axis) for every strategy of a sweep,
/// one line per strategy through its budgets, error bars of one standard deviation over seeds: the
/// standard test-time-scaling plot, as one self-contained SVG (no script, no external resource).
public enum AccuracyComputeChart {
    /// Line colours, one per strategy in order (a colour-blind-safe palette, Okabe–Ito).
    static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]

    /// The SVG text of the chart of `rows`, titled `title`.
    public static func svg(_ rows: [SweepRow], title: String) -> String {
        let (width, height) = (760.0, 460.0)
        let (left, right, top, bottom) = (70.0, 230.0, 40.0, 60.0)
        let plotW = width - left - right, plotH = height - top - bottom
        let xs = rows.map { log2(max($0.tokensPerAnswer.mean, 1)) }
        let (lo, hi) = (floor(xs.min() ?? 0), max(ceil(xs.max() ?? 1), floor(xs.min() ?? 0) + 1))
        func x(_ tokens: Double) -> Double { left + (log2(max(tokens, 1)) - lo) / (hi - lo) * plotW }
        func y(_ accuracy: Double) -> Double { top + (1 - min(max(accuracy, 0), 1)) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(left + plotW / 2))" y="22" text-anchor="middle" font-size="15">\(escape(title))</text>
        <rect x="\(f(left))" y="\(f(top))" width="\(f(plotW))" height="\(f(plotH))" fill="none" stroke="#444"/>

        """
        for tick in stride(from: 0.0, through: 1.0, by: 0.2) {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(y(tick)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y(tick)))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\">\(Int((tick * 100).rounded()))%</text>\n"
        }
        for e in Int(lo)...Int(hi) {
            let px = left + (Double(e) - lo) / (hi - lo) * plotW
            svg += "<line x1=\"\(f(px))\" y1=\"\(f(top))\" x2=\"\(f(px))\" y2=\"\(f(top + plotH))\" stroke=\"#ddd\"/>"
            svg += "<text x=\"\(f(px))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\">\(Int(pow(2, Double(e))))</text>\n"
        }
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 18))\" text-anchor=\"middle\">generated tokens per answer (log scale)</text>\n"
        svg += "<text x=\"18\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 18 \(f(top + plotH / 2)))\">accuracy</text>\n"

        var strategies: [String] = []
        for r in rows where !strategies.contains(r.search) { strategies.append(r.search) }
        for (s, name) in strategies.enumerated() {
            let colour = palette[s % palette.count]
            let points = rows.filter { $0.search == name }.sorted { $0.tokensPerAnswer.mean < $1.tokensPerAnswer.mean }
            let path = points.map { "\(f(x($0.tokensPerAnswer.mean))),\(f(y($0.accuracy.mean)))" }.joined(separator: " ")
            svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>\n"
            for p in points {
                let (px, py) = (x(p.tokensPerAnswer.mean), y(p.accuracy.mean))
                svg += "<line x1=\"\(f(px))\" y1=\"\(f(y(p.accuracy.mean - p.accuracy.std)))\" x2=\"\(f(px))\" y2=\"\(f(y(p.accuracy.mean + p.accuracy.std)))\" stroke=\"\(colour)\"/>"
                svg += "<circle cx=\"\(f(px))\" cy=\"\(f(py))\" r=\"4\" fill=\"\(colour)\"><title>\(escape(name)) budget \(p.budget): " +
                    String(format: "%.1f%% ± %.1f, %.0f tokens", 100 * p.accuracy.mean, 100 * p.accuracy.std, p.tokensPerAnswer.mean) + "</title></circle>\n"
            }
            let ly = top + 10 + Double(s) * 20
            svg += "<line x1=\"\(f(width - right + 15))\" y1=\"\(f(ly))\" x2=\"\(f(width - right + 40))\" y2=\"\(f(ly))\" stroke=\"\(colour)\" stroke-width=\"3\"/>"
            svg += "<text x=\"\(f(width - right + 46))\" y=\"\(f(ly + 4))\">\(escape(name))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// `text` with XML's special characters escaped.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
