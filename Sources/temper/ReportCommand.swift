import ArgumentParser
import Foundation
import TemperCore

/// `temper report`: the report.html of one run folder again, or several runs overlaid on one page.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write report.html for run folders: one folder's report again, or several runs overlaid (one colour per run).",
        discussion: """
            Each DIR is an output folder of `temper train` (metrics.jsonl), `temper eval` (summary.csv) or `temper quickstart` \
            (quickstart.json). One DIR: its report.html is rewritten. Several: their metrics are drawn on the same charts, \
            the legend naming each run by its folder, into --output (default: report.html in the current folder). \
            The page is self-contained: inline SVG and CSS, no script, nothing fetched.
            """
    )

    @Argument(help: "Run output folders.")
    var folders: [String]

    @Option(help: "Where the page goes (default: DIR/report.html for one folder, ./report.html for several).")
    var output: String?

    func validate() throws {
        guard !folders.isEmpty else { throw ValidationError("give at least one run folder") }
    }

    func run() throws {
        let urls = folders.map { URL(fileURLWithPath: $0) }
        let target = output.map { URL(fileURLWithPath: $0) }
            ?? (urls.count == 1 ? urls[0].appendingPathComponent(RunReport.fileName) : URL(fileURLWithPath: RunReport.fileName))
        do {
            print("wrote \(try RunReport.write(folders: urls, to: target).path)")
        } catch let e as ReportError {
            throw CommandError(description: e.description)
        }
    }
}
