import Foundation

/// One output folder read for a report: whichever of a training run's `metrics.jsonl` (and
/// `run.json`), an eval's `summary.csv` and a quickstart's `quickstart.json` it holds. Each decides
/// which sections the report draws.
public struct RunFolder {
    /// The folder.
    public var url: URL
    /// Its name in legends and headings.
    public var label: String
    /// A training run's metrics.
    public var metrics: MetricsTable?
    /// A training run's objective, settings and time.
    public var record: TrainingRunRecord?
    /// An eval's rows.
    public var sweep: [SweepRow]?
    /// A quickstart's table and runs.
    public var quickstart: QuickstartSummary?

    /// Reads what `url` holds; a folder that is missing or holds none of the three is an error
    /// naming it and what was expected.
    public init(_ url: URL, label: String? = nil) throws {
        self.url = url
        self.label = label ?? url.standardizedFileURL.lastPathComponent
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw ReportError("\(url.path) does not exist (expected a run's output folder)")
        }
        guard isFolder.boolValue else { throw ReportError("\(url.path) is a file, not a run's output folder") }
        func file(_ name: String) -> URL? {
            let f = url.appendingPathComponent(name)
            return FileManager.default.fileExists(atPath: f.path) ? f : nil
        }
        metrics = try file("metrics.jsonl").map(MetricsTable.init(contentsOf:))
        record = try TrainingRunRecord.read(in: url)
        sweep = try file("summary.csv").map(SweepSummaryFile.read)
        quickstart = try file("quickstart.json").map { try QuickstartSummary.read($0) }
        guard metrics != nil || sweep != nil || quickstart != nil else {
            throw ReportError("\(url.path) holds no run: expected metrics.jsonl (temper train), summary.csv (temper eval) " +
                              "or quickstart.json (temper quickstart)")
        }
    }

    /// Legend labels for `urls`: each folder's name, with as many parent folders as it takes to tell
    /// two runs apart (`seed-0/sft` and `seed-1/sft`).
    public static func labels(for urls: [URL]) -> [String] {
        let parts = urls.map { $0.standardizedFileURL.pathComponents.filter { $0 != "/" } }
        var depth = 1
        while depth < (parts.map(\.count).max() ?? 1) {
            let names = parts.map { $0.suffix(depth).joined(separator: "/") }
            if Set(names).count == names.count { return names }
            depth += 1
        }
        return parts.map { $0.suffix(depth).joined(separator: "/") }
    }
}
