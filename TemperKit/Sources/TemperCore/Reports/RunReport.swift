import Foundation

/// `report.html`: one self-contained page (inline SVG and CSS, no script, nothing fetched) of what
/// a run's output folder holds — the run summary; loss, learning rate, gradient norm, throughput;
/// for RL the reward in total and per function, KL, entropy, completion length, clip fraction, and
/// the proxy reward against the gold verifier with their gap; forgetting (general-text perplexity
/// before and after); an eval's accuracy against tokens per answer for every strategy; a
/// quickstart's stage table and stage curves. Several folders overlay: one colour per run.
public enum RunReport {
    /// The report's file name in an output folder.
    public static let fileName = "report.html"

    /// Writes `folder/report.html` (atomically) from what the folder holds; returns its URL.
    @discardableResult
    public static func write(folder: URL) throws -> URL {
        try write(folders: [folder], to: folder.appendingPathComponent(fileName))
    }

    /// Writes `folder/report.html` at the end of a command; a report that cannot be written does not
    /// undo the run's results, so the failure is a warning line on standard error (never dropped).
    /// Returns the report's URL, or nil after the warning.
    @discardableResult
    public static func writeOrWarn(folder: URL) -> URL? {
        do { return try write(folder: folder) } catch {
            FileHandle.standardError.write(Data("warning: no \(fileName) written in \(folder.path): \(error)\n".utf8))
            return nil
        }
    }

    /// Writes the report of `folders` overlaid to `output` (atomically); returns `output`.
    @discardableResult
    public static func write(folders: [URL], to output: URL) throws -> URL {
        let page = try html(folders: folders)
        do { try AtomicFileWriter.write(Data(page.utf8), to: output) } catch {
            throw ReportError("\(output.path): cannot be written (\(error))")
        }
        return output
    }

    /// The report page of `folders` (at least one).
    public static func html(folders: [URL], generated: Date = Date()) throws -> String {
        guard !folders.isEmpty else { throw ReportError("no run folder given (expected at least one output folder)") }
        let runs = try zip(folders, RunFolder.labels(for: folders)).map { try RunFolder($0, label: $1) }
        var body = RunSummarySection.html(runs)
        for run in runs where run.quickstart != nil { body += try QuickstartSection.html(run) }
        let trained = runs.compactMap { run in run.metrics.map { (run.label, $0) } }
        for section in TrainingCharts.charts(runs: trained) {
            var content = ReportPage.charts(section.charts)
            if section.heading.hasPrefix("Forgetting") { content = ForgettingSection.html(runs) + content }
            body += ReportPage.section(section.heading, content)
        }
        body += EvalSection.html(runs)
        let title = runs.count == 1 ? "Temper report: \(runs[0].label)" : "Temper report: \(runs.map(\.label).joined(separator: " vs "))"
        let formatter = ISO8601DateFormatter()
        let subtitle = runs.map { $0.url.path }.joined(separator: ", ") + " · generated \(formatter.string(from: generated)) by temper \(TemperVersion.string)"
        return ReportPage.document(title: title, subtitle: subtitle, body: body)
    }
}
