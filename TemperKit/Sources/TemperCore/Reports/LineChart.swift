import Foundation

/// A line chart as one self-contained SVG (no script, no external resource): axes with nice ticks,
/// a linear or log₂ x axis, one polyline per series with point markers when there are few points,
/// optional error bars, and a legend on the right. Non-finite values are skipped (a NaN reward of a
/// step where nothing was scored is a gap, not a zero); a chart with no finite point is not drawn.
public struct LineChart {
    /// One line: its legend name, colour, dash pattern (nil: solid) and points.
    public struct Series {
        /// Legend text.
        public var name: String
        /// Stroke colour (CSS).
        public var colour: String
        /// SVG `stroke-dasharray`, or nil for a solid line.
        public var dash: String?
        /// (x, y, half-height of an error bar or nil) in data units.
        public var points: [(x: Double, y: Double, error: Double?)]

        /// A series from its parts.
        public init(name: String, colour: String, dash: String? = nil, points: [(x: Double, y: Double, error: Double?)]) {
            self.name = name
            self.colour = colour
            self.dash = dash
            self.points = points
        }

        /// Its points with a finite position (and x > 0 on a log axis).
        func drawable(logX: Bool) -> [(x: Double, y: Double, error: Double?)] {
            points.filter { $0.x.isFinite && $0.y.isFinite && (!logX || $0.x > 0) }
        }
    }

    /// How the y axis reads.
    public enum YFormat {
        /// Plain numbers.
        case number
        /// Fractions shown as percentages, axis fixed to 0–100 %.
        case percent
    }

    /// Line colours in order (Okabe–Ito, safe for colour-blind readers).
    public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"]
    /// Dash patterns that tell several keys of one run apart when colour names the run.
    public static let dashes: [String?] = [nil, "6 3", "2 3", "8 3 2 3"]

    /// Heading above the plot.
    public var title: String
    /// Label under the x axis.
    public var xLabel: String
    /// Label beside the y axis.
    public var yLabel: String
    /// The lines.
    public var series: [Series]
    /// Log₂ x axis (ticks at powers of two).
    public var logX = false
    /// Number or percentage y axis.
    public var yFormat = YFormat.number
    /// Pixel size of the whole SVG.
    public var width = 600.0, height = 300.0
    /// Pixels of the legend column on the right.
    public var legendWidth = 200.0

    /// A chart of `series`.
    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// Series with at least one drawable point.
    var drawnSeries: [Series] { series.filter { !$0.drawable(logX: logX).isEmpty } }

    /// The SVG text, or nil when no series has a finite point (such charts are left out).
    public func svg() -> String? {
        let shown = drawnSeries
        guard !shown.isEmpty else { return nil }
        let (top, bottom) = (34.0, 46.0)
        let right = legendWidth
        let plotH = height - top - bottom
        let points = shown.flatMap { $0.drawable(logX: logX) }

        // x domain: log₂ exponents or a nice linear range; a single x gets a unit of room either side.
        let xTicks: [Double], xLo: Double, xHi: Double, xTickLabel: (Double) -> String, xValue: (Double) -> Double
        if logX {
            xValue = { log2($0) }
            let exps = points.map { log2($0.x) }
            let lo = floor(exps.min()!), hi = max(ceil(exps.max()!), lo + 1)
            let every = max(1.0, ceil((hi - lo) / 8))
            (xLo, xHi) = (lo, hi)
            xTicks = stride(from: lo, through: hi, by: every).map { $0 }
            xTickLabel = { AxisTicks.label(pow(2, $0), step: 1) }
        } else {
            xValue = { $0 }
            let xs = points.map(\.x)
            var (lo, hi) = (xs.min()!, xs.max()!)
            if lo == hi { (lo, hi) = (lo - 1, hi + 1) }
            let whole = xs.allSatisfy { $0 == $0.rounded() }
            let axis = AxisTicks.linear(lo: lo, hi: hi, target: 6, minStep: whole ? 1 : 0)
            // The x axis spans the data exactly (a run's first to last step), ticks only inside it.
            (xLo, xHi) = (lo, hi)
            xTicks = axis.ticks.filter { $0 >= lo - 1e-9 * (hi - lo) && $0 <= hi + 1e-9 * (hi - lo) }
            let step = axis.ticks.count > 1 ? axis.ticks[1] - axis.ticks[0] : 1
            xTickLabel = { AxisTicks.label($0, step: step) }
        }
        let yTicks: [Double], yLo: Double, yHi: Double, yTickLabel: (Double) -> String
        switch yFormat {
        case .percent:
            (yLo, yHi) = (0, 1)
            yTicks = stride(from: 0.0, through: 1.0, by: 0.2).map { $0 }
            yTickLabel = { "\(Int(($0 * 100).rounded()))%" }
        case .number:
            let ys = points.flatMap { p in [p.y - (p.error ?? 0), p.y + (p.error ?? 0)] }.filter(\.isFinite)
            var (lo, hi) = (ys.min() ?? 0, ys.max() ?? 1)
            if lo == hi { (lo, hi) = lo == 0 ? (-1, 1) : (lo - abs(lo) / 2, hi + abs(hi) / 2) }
            let axis = AxisTicks.linear(lo: lo, hi: hi, target: 5)
            (yLo, yHi, yTicks) = axis
            let step = axis.ticks.count > 1 ? axis.ticks[1] - axis.ticks[0] : 1
            yTickLabel = { AxisTicks.label($0, step: step) }
        }
        // Room for the longest y tick label (about 7 px a character at 12 px) beside the rotated axis label.
        let left = max(64, 30 + 7 * Double(yTicks.map { yTickLabel($0).count }.max() ?? 0))
        let plotW = width - left - right
        func px(_ x: Double) -> Double { left + (xValue(x) - xLo) / (xHi - xLo) * plotW }
        func pxOfAxis(_ v: Double) -> Double { left + (v - xLo) / (xHi - xLo) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (min(max(y, yLo), yHi) - yLo) / (yHi - yLo)) * plotH }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let e = HTMLText.escape

        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" " +
            "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\" font-size=\"12\" role=\"img\">\n"
        svg += "<title>\(e(title))</title>\n"
        svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"600\">\(e(title))</text>\n"
        for t in yTicks {
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(t)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(t)))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\" fill=\"#333\">\(e(yTickLabel(t)))</text>\n"
        }
        for t in xTicks {
            svg += "<line x1=\"\(f(pxOfAxis(t)))\" y1=\"\(f(top))\" x2=\"\(f(pxOfAxis(t)))\" y2=\"\(f(top + plotH))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(f(pxOfAxis(t)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\" fill=\"#333\">\(e(xTickLabel(t)))</text>\n"
        }
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#888\"/>\n"
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" fill=\"#333\">\(e(xLabel + (logX ? " (log scale)" : "")))</text>\n"
        svg += "<text x=\"14\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" fill=\"#333\" transform=\"rotate(-90 14 \(f(top + plotH / 2)))\">\(e(yLabel))</text>\n"

        for (index, s) in shown.enumerated() {
            let drawn = s.drawable(logX: logX).sorted { $0.x < $1.x }
            let dash = s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
            if drawn.count > 1 {
                let path = drawn.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(s.colour)\" stroke-width=\"2\"\(dash)/>\n"
            }
            // Markers when the points are few enough to tell apart (and always for a lone point).
            let markers = drawn.count <= 40
            for p in drawn {
                if let err = p.error, err.isFinite, err > 0 {
                    svg += "<line x1=\"\(f(px(p.x)))\" y1=\"\(f(py(p.y - err)))\" x2=\"\(f(px(p.x)))\" y2=\"\(f(py(p.y + err)))\" stroke=\"\(s.colour)\"/>"
                }
                if markers {
                    let value = yFormat == .percent ? String(format: "%.1f%%", 100 * p.y) : String(format: "%.4g", p.y)
                    svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"\(drawn.count == 1 ? "4" : "2.5")\" fill=\"\(s.colour)\">" +
                        "<title>\(e(s.name)): \(e(String(format: "%.4g", p.x))), \(e(value))</title></circle>"
                }
            }
            svg += "\n"
            let ly = top + 8 + Double(index) * 18
            let lx = width - right + 12
            svg += "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 22))\" y2=\"\(f(ly))\" stroke=\"\(s.colour)\" stroke-width=\"3\"\(dash)/>"
            svg += "<text x=\"\(f(lx + 28))\" y=\"\(f(ly + 4))\" fill=\"#222\" font-size=\"11\">\(e(Self.legendText(s.name)))<title>\(e(s.name))</title></text>\n"
        }
        return svg + "</svg>\n"
    }

    /// Legend names longer than the column are cut with an ellipsis (the full name is the tooltip).
    static func legendText(_ name: String) -> String {
        name.count <= 27 ? name : String(name.prefix(26)) + "…"
    }
}
