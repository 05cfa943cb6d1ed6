import Foundation

/// What `quickstart.json` holds: the stage × metric table over seeds and where each run's folder is
/// (paths relative to the quickstart folder; each an ordinary `temper train` or `temper eval`
/// output folder), plus the reward-hacking run when there was one.
public struct QuickstartSummary: Codable, Equatable {
    /// One metric of one stage over the seeds.
    public struct Cell: Codable, Equatable {
        /// Mean over seeds.
        public var mean: Double
        /// Sample standard deviation over seeds (0 for one seed).
        public var spread: Double
        /// The value of each seed, in seed order.
        public var perSeed: [Double]

        /// A cell from per-seed values.
        public init(_ values: [Double]) {
            let m = MeanSpread(values)
            mean = m.mean
            spread = m.std
            perSeed = values
        }

        enum CodingKeys: String, CodingKey { case mean, spread, perSeed = "per_seed" }
    }

    /// One stage's figures.
    public struct Row: Codable, Equatable {
        /// `base`, `sft` or `grpo`.
        public var stage: String
        /// Metric name → its cell.
        public var values: [String: Cell]

        /// A row from parts.
        public init(stage: String, values: [String: Cell]) {
            self.stage = stage
            self.values = values
        }
    }

    /// The reward-hacking run (`--hack`).
    public struct Hack: Codable, Equatable {
        /// The proxy reward spec it trained on.
        public var proxy: String
        /// Its run folder (metrics.jsonl has `reward`, the proxy, and `gold_reward`).
        public var run: String

        /// A hack run from parts.
        public init(proxy: String, run: String) {
            self.proxy = proxy
            self.run = run
        }
    }

    /// The task spec.
    public var task: String
    /// Seeds run.
    public var seeds: [Int]
    /// Stages evaluated, in order.
    public var stages: [String]
    /// Metric names, in table order.
    public var columns: [String]
    /// One row per stage.
    public var rows: [Row]
    /// Run name (`seed-0/sft`, `seed-0/eval-sft`) → folder relative to the quickstart folder.
    public var runs: [String: String]
    /// The reward-hacking run, if any.
    public var hack: Hack?
    /// What SFT's demonstrations were when some were flawed on purpose (`flawed_demonstrations`),
    /// shown wherever the table is, since the SFT row measures imitation of that data; nil when
    /// every demonstration was correct.
    public var demonstrations: String?

    /// The summary's file name in the quickstart folder.
    public static let fileName = "quickstart.json"

    /// Writes `folder/quickstart.json` (sorted keys), under a temporary name then renamed.
    public func write(to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFileWriter.write(try encoder.encode(self), to: folder.appendingPathComponent(Self.fileName))
    }

    /// Reads `folder/quickstart.json`; errors name the file.
    public static func read(from folder: URL) throws -> QuickstartSummary {
        try read(folder.appendingPathComponent(fileName))
    }

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

    /// A coding path as the file's reader would write it: `rows[0].values`.
    static func path(_ keys: [CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }
}
