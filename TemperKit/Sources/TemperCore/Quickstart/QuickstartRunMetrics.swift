import Foundation

/// Reads a run's `metrics.jsonl` back (what `MetricsLog` wrote): the quickstart takes each stage's
/// forgetting and reward-hacking figures from the run's own log, not from memory, so what it
/// prints is what the folder holds.
enum QuickstartRunMetrics {
    /// The entries in order, numeric fields only ("NaN" strings and other values left out); an
    /// unreadable file or a line that is not a JSON object is an error naming the file and line.
    static func read(_ url: URL) throws -> [[String: Double]] {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw SpecError("\(url.path): cannot be read") }
        var entries: [[String: Double]] = []
        for (i, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw SpecError("\(url.path):\(i + 1): not a JSON object")
            }
            entries.append(object.compactMapValues { ($0 as? NSNumber)?.doubleValue })
        }
        return entries
    }
}
