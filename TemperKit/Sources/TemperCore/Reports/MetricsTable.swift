import Foundation

/// A run's `metrics.jsonl` read back: the entries in order, each a map from key to number. The
/// trainer writes non-finite values as the strings "NaN", "Infinity" and "-Infinity"; they come back
/// as those doubles (charts skip them).
public struct MetricsTable {
    /// The logged entries, in file order.
    public var entries: [[String: Double]]

    /// A table of entries already read.
    public init(entries: [[String: Double]]) {
        self.entries = entries
    }

    /// Reads `url`; a line that is not a JSON object of numbers is an error naming the file, the
    /// line and the key.
    public init(contentsOf url: URL) throws {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ReportError("\(url.path): cannot be read as UTF-8 text (\(error.localizedDescription))")
        }
        var entries: [[String: Double]] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw ReportError("\(url.path) line \(index + 1): not a JSON object (expected one metrics entry per line)")
            }
            var entry: [String: Double] = [:]
            for (key, value) in object {
                if let number = value as? NSNumber {
                    entry[key] = number.doubleValue
                } else if let text = value as? String, let special = ["NaN": Double.nan, "Infinity": .infinity, "-Infinity": -.infinity][text] {
                    entry[key] = special
                } else {
                    throw ReportError("\(url.path) line \(index + 1): '\(key)' is \(value), expected a number")
                }
            }
            entries.append(entry)
        }
        self.entries = entries
    }

    /// Every key logged, sorted.
    public var keys: [String] { Array(Set(entries.flatMap(\.keys))).sorted() }

    /// (step, value) of every entry that logged `key`, in order; entries without a step use their index.
    public func series(_ key: String) -> [(x: Double, y: Double, error: Double?)] {
        entries.enumerated().compactMap { index, entry in
            entry[key].map { (entry["step"] ?? Double(index), $0, nil) }
        }
    }

    /// The last value logged for `key`.
    public func last(_ key: String) -> Double? { entries.last { $0[key] != nil }?[key] }

    /// The first value logged for `key`.
    public func first(_ key: String) -> Double? { entries.first { $0[key] != nil }?[key] }
}
