import Foundation

/// What an evaluation leaves in its output folder, written the same way by `temper eval` and by the
/// quickstart's stage evaluations (so reports and tools read one layout): `items.jsonl` (one graded
/// search per line), `summary.csv` (`SweepRow.csv`: mean and spread over seeds) and
/// `accuracy-vs-compute.svg`. Each file is written under a temporary name and renamed.
public enum EvalOutputFolder {
    /// Writes `rows` and `items` into `folder` (created if missing); `title` heads the chart.
    public static func write(rows: [SweepRow], items: [SweepItemRecord], title: String, to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try AtomicFileWriter.write(Data(items.map { $0.json + "\n" }.joined().utf8), to: folder.appendingPathComponent("items.jsonl"))
        try AtomicFileWriter.write(Data(SweepRow.csv(rows).utf8), to: folder.appendingPathComponent("summary.csv"))
        try AtomicFileWriter.write(Data(AccuracyComputeChart.svg(rows, title: title).utf8), to: folder.appendingPathComponent("accuracy-vs-compute.svg"))
    }
}
