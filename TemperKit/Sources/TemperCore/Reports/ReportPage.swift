import Foundation

/// The HTML around a report's sections: one self-contained page (inline CSS, inline SVG, no script,
/// nothing fetched), and the small builders the sections share.
enum ReportPage {
    /// The whole page.
    static func document(title: String, subtitle: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTMLText.escape(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        <header><h1>\(HTMLText.escape(title))</h1><p class="meta">\(HTMLText.escape(subtitle))</p></header>
        \(body)
        </body>
        </html>

        """
    }

    static let css = """
    body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; background: #f6f7f9;
           margin: 0 auto; padding: 24px 32px 48px; max-width: 1240px; font-size: 15px; line-height: 1.45; }
    h1 { font-size: 26px; margin: 0 0 4px; }
    h2 { font-size: 19px; margin: 32px 0 12px; border-bottom: 1px solid #d8dbe0; padding-bottom: 4px; }
    h3 { font-size: 16px; margin: 20px 0 8px; }
    .meta, .note { color: #666; margin: 0 0 8px; }
    .charts { display: flex; flex-wrap: wrap; gap: 16px; }
    figure { margin: 0; background: white; border: 1px solid #d8dbe0; border-radius: 6px; padding: 6px; box-sizing: border-box;
             flex: 0 1 calc(50% - 8px); min-width: 420px; }
    figure:only-child { flex-basis: 100%; max-width: 820px; }
    figure svg { display: block; width: 100%; height: auto; }
    details { margin: 0 0 16px; }
    summary { cursor: pointer; color: #444; }
    table { border-collapse: collapse; background: white; margin: 8px 0 16px; font-size: 14px; }
    th, td { border: 1px solid #d8dbe0; padding: 5px 10px; text-align: left; }
    th { background: #eef0f3; font-weight: 600; }
    td.num { text-align: right; font-variant-numeric: tabular-nums; }
    code { font-size: 13px; }
    """

    /// A section: heading and content.
    static func section(_ heading: String, _ content: String, level: Int = 2) -> String {
        "<section>\n<h\(level)>\(HTMLText.escape(heading))</h\(level)>\n\(content)</section>\n"
    }

    /// The charts, side by side as space allows (charts with nothing to draw are left out).
    static func charts(_ charts: [LineChart]) -> String {
        let figures = charts.compactMap { $0.svg() }.map { "<figure>\n\($0)</figure>\n" }
        return figures.isEmpty ? "" : "<div class=\"charts\">\n" + figures.joined() + "</div>\n"
    }

    /// A table; cells that parse as numbers are right-aligned.
    static func table(header: [String], rows: [[String]]) -> String {
        var out = "<table>\n<tr>" + header.map { "<th>\(HTMLText.escape($0))</th>" }.joined() + "</tr>\n"
        for row in rows {
            out += "<tr>" + row.map { cell in
                let numeric = Double(cell.split(separator: " ").first.map(String.init)?.replacingOccurrences(of: "%", with: "") ?? "") != nil
                return "<td\(numeric ? " class=\"num\"" : "")>\(HTMLText.escape(cell))</td>"
            }.joined() + "</tr>\n"
        }
        return out + "</table>\n"
    }

    /// A number for a table: four significant digits, or a dash for none.
    static func number(_ value: Double?) -> String {
        guard let value else { return "–" }
        return String(format: "%.4g", value)
    }

    /// Seconds as `42.0 s` or `3 min 12 s`.
    static func duration(_ seconds: Double) -> String {
        seconds < 120 ? String(format: "%.1f s", seconds) : "\(Int(seconds) / 60) min \(Int(seconds) % 60) s"
    }
}
