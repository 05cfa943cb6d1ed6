import Foundation

/// A `temper eval` folder's `summary.csv` (as `SweepRow.csv` writes it) read back into rows, by
/// column name so that added columns do not break old reports.
public enum SweepSummaryFile {
    /// Columns a report cannot do without.
    static let required = ["search", "budget", "accuracy_mean", "tokens_per_answer_mean"]

    /// The rows of the CSV file at `url`; a missing column or a non-number is an error naming the
    /// file, line and column.
    public static func read(_ url: URL) throws -> [SweepRow] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ReportError("\(url.path): cannot be read as UTF-8 text (\(error.localizedDescription))")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        guard let header = lines.first.map(fields) else { throw ReportError("\(url.path): empty (expected a header line \(SweepRow.csvHeader))") }
        for column in required where !header.contains(column) {
            throw ReportError("\(url.path): no column '\(column)' in the header (expected \(SweepRow.csvHeader))")
        }
        return try lines.dropFirst().enumerated().map { offset, line in
            let values = fields(line)
            let lineNumber = offset + 2
            guard values.count == header.count else {
                throw ReportError("\(url.path) line \(lineNumber): \(values.count) fields, the header has \(header.count)")
            }
            var row: [String: String] = [:]
            for (name, value) in zip(header, values) { row[name] = value }
            func number(_ column: String) throws -> Double {
                guard let text = row[column] else { return 0 }
                guard let v = Double(text) else { throw ReportError("\(url.path) line \(lineNumber): \(column) is '\(text)', expected a number") }
                return v
            }
            func spread(_ name: String) throws -> MeanSpread { MeanSpread(mean: try number(name + "_mean"), std: try number(name + "_std")) }
            return SweepRow(search: row["search"] ?? "", budget: Int(try number("budget")), seeds: Int(try number("seeds")),
                            accuracy: try spread("accuracy"), passAt1: try spread("pass_at_1"), passAtK: try spread("pass_at_k"),
                            majAtK: try spread("maj_at_k"), tokensPerAnswer: try spread("tokens_per_answer"),
                            tokensScoredPerAnswer: try spread("tokens_scored_per_answer"),
                            forwardPassesPerAnswer: try spread("forward_passes_per_answer"), wallSeconds: try spread("wall_seconds"))
        }
    }

    /// The fields of one RFC 4180 line: commas separate, double quotes enclose, `""` is a quote.
    static func fields(_ line: String) -> [String] {
        var out: [String] = [], current = "", quoted = false
        var chars = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let next = chars.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else { current.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                out.append(current)
                current = ""
            } else if c != "\r" {
                current.append(c)
            }
        }
        out.append(current)
        return out
    }
}
