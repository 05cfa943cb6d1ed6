import Foundation

/// A quickstart folder's `quickstart.json`: the task, seeds and stages, the stage table (each
/// column's mean, spread over seeds and per-seed values) and where each stage's run folder is.
public struct QuickstartSummary: Decodable {
    /// One figure of the table: mean, sample standard deviation over seeds, the seeds' values.
    public struct Cell: Decodable {
        /// Mean over seeds.
        public var mean: Double
        /// Sample standard deviation over seeds.
        public var spread: Double
        /// One value per seed.
        public var perSeed: [Double]?

        enum CodingKeys: String, CodingKey { case mean, spread, perSeed = "per_seed" }
    }

    /// One stage's row.
    public struct Row: Decodable {
        /// Stage name (base, sft, grpo, ...).
        public var stage: String
        /// Column name → cell.
        public var values: [String: Cell]
    }

    /// The reward-hacking demonstration: the gameable proxy and its run folder.
    public struct Hack: Decodable {
        /// The proxy reward's spec.
        public var proxy: String
        /// Its run folder, relative to the quickstart folder.
        public var run: String
    }

    /// The built-in task's name.
    public var task: String
    /// Seeds run.
    public var seeds: [Int]
    /// Stages in order.
    public var stages: [String]
    /// Table columns in order.
    public var columns: [String]
    /// One row per stage.
    public var rows: [Row]
    /// Run name (e.g. `seed-0/sft`) → folder relative to the quickstart folder.
    public var runs: [String: String]
    /// Present with `--hack`.
    public var hack: Hack?

    /// Reads and decodes `url`; a malformed file is an error naming it and the field.
    public static func read(_ url: URL) throws -> QuickstartSummary {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw ReportError("\(url.path): cannot be read (\(error.localizedDescription))") }
        do {
            return try JSONDecoder().decode(QuickstartSummary.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw ReportError("\(url.path): no field '\(Self.path(context.codingPath + [key]))' (expected task, seeds, stages, columns, rows, runs)")
        } catch let DecodingError.typeMismatch(_, context) {
            throw ReportError("\(url.path): field '\(Self.path(context.codingPath))' has the wrong type (\(context.debugDescription))")
        } catch let DecodingError.valueNotFound(_, context) {
            throw ReportError("\(url.path): field '\(Self.path(context.codingPath))' is null")
        } catch {
            throw ReportError("\(url.path): not valid JSON (\(error.localizedDescription))")
        }
    }

    static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }
}
