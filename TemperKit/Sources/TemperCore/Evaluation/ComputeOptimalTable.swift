import Foundation

/// The sweep table `compute-optimal` routes by (Snell et al. 2024, arXiv 2408.03314, §3.2): for each
/// question-difficulty bin and budget, the search strategy that a `temper eval` sweep found most
/// accurate. `temper eval --sweep-table FILE` writes it; `compute-optimal:table=FILE` reads it.
///
/// Difficulty is estimated the same way on both sides, from `probeSamples` samples of the question
/// scored by the verifier: d = 1 − mean score (each clamped to [0, 1]; an unscored sample counts 0),
/// in `bins` equal-width bins of [0, 1] — Snell's "model-predicted difficulty" with the verifier as
/// the predictor.
public struct ComputeOptimalTable: Codable, Equatable, Sendable {
    /// The `format` value this version writes and reads.
    public static let currentFormat = "temper-compute-optimal/1"

    /// One routing decision: in bin `bin`, at `budget` samples per prompt, run `search`.
    public struct Choice: Codable, Equatable, Sendable {
        /// Difficulty bin, 0 (easiest) ..< bins.
        public var bin: Int
        /// Samples per prompt the sweep ran the strategy with.
        public var budget: Int
        /// The strategy's spec (`best-of-n`, `self-consistency:extract=boxed`).
        public var search: String
        /// Its accuracy on the sweep's items of this bin.
        public var accuracy: Double
        /// Mean generated tokens per answer it spent there.
        public var tokensPerAnswer: Double
        /// Sweep items in this bin.
        public var items: Int

        /// A choice from parts.
        public init(bin: Int, budget: Int, search: String, accuracy: Double, tokensPerAnswer: Double, items: Int) {
            (self.bin, self.budget, self.search, self.accuracy, self.tokensPerAnswer, self.items) =
                (bin, budget, search, accuracy, tokensPerAnswer, items)
        }

        enum CodingKeys: String, CodingKey {
            case bin, budget, search, accuracy, items
            case tokensPerAnswer = "tokens_per_answer"
        }
    }

    /// `currentFormat`.
    public var format: String
    /// Samples drawn per question to estimate its difficulty.
    public var probeSamples: Int
    /// Number of equal-width difficulty bins.
    public var bins: Int
    /// The routing decisions.
    public var choices: [Choice]

    enum CodingKeys: String, CodingKey {
        case format, bins, choices
        case probeSamples = "probe_samples"
    }

    /// A table from parts.
    public init(probeSamples: Int, bins: Int, choices: [Choice]) {
        format = Self.currentFormat
        self.probeSamples = probeSamples
        self.bins = bins
        self.choices = choices
    }

    /// d = 1 − mean(clamp(score, 0, 1)) over the probe samples; a nil score counts as 0.
    public static func difficulty(probeScores: [Float?]) -> Double {
        guard !probeScores.isEmpty else { return 1 }
        let solved = probeScores.reduce(0.0) { $0 + Double(min(max($1 ?? 0, 0), 1)) }
        return 1 - solved / Double(probeScores.count)
    }

    /// The bin of difficulty `d` in [0, 1] (d = 1 falls in the last bin).
    public func bin(ofDifficulty d: Double) -> Int {
        min(bins - 1, max(0, Int((d * Double(bins)).rounded(.down))))
    }

    /// The choice for `bin` at the largest budget ≤ `budget`. A bin the sweep had no item in
    /// borrows from the nearest bin that has choices (the easier one on a tie). An error names
    /// the budgets the table has when none fits.
    public func choice(bin: Int, budget: Int) throws -> Choice {
        let filled = Set(choices.map(\.bin))
        guard let nearest = filled.min(by: { (abs($0 - bin), $0) < (abs($1 - bin), $1) }) else {
            throw SpecError("compute-optimal table: has no choices")
        }
        let fitting = choices.filter { $0.bin == nearest && $0.budget <= budget }
        guard let best = fitting.max(by: { $0.budget < $1.budget }) else {
            let budgets = Set(choices.filter { $0.bin == nearest }.map(\.budget)).sorted().map(String.init).joined(separator: ", ")
            throw SpecError("compute-optimal table: difficulty bin \(nearest) has budgets \(budgets); none fits a budget of \(budget) samples")
        }
        return best
    }

    /// Reads and checks a table; errors name the file and what is wrong.
    public static func load(_ path: String) throws -> ComputeOptimalTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SpecError("compute-optimal table \(path): cannot read the file")
        }
        let table: ComputeOptimalTable
        do {
            table = try JSONDecoder().decode(ComputeOptimalTable.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw SpecError("compute-optimal table \(path): missing field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw SpecError("compute-optimal table \(path): field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type")
        } catch {
            throw SpecError("compute-optimal table \(path): not a table written by `temper eval --sweep-table` (\(error))")
        }
        guard table.format == currentFormat else {
            throw SpecError("compute-optimal table \(path): format is '\(table.format)', expected '\(currentFormat)'")
        }
        guard table.probeSamples >= 1 else { throw SpecError("compute-optimal table \(path): probe_samples must be at least 1, got \(table.probeSamples)") }
        guard table.bins >= 1 else { throw SpecError("compute-optimal table \(path): bins must be at least 1, got \(table.bins)") }
        guard !table.choices.isEmpty else { throw SpecError("compute-optimal table \(path): has no choices") }
        for (i, c) in table.choices.enumerated() {
            guard (0..<table.bins).contains(c.bin) else {
                throw SpecError("compute-optimal table \(path): choices[\(i)].bin is \(c.bin), expected 0..<\(table.bins)")
            }
            guard c.budget >= 1 else { throw SpecError("compute-optimal table \(path): choices[\(i)].budget must be at least 1, got \(c.budget)") }
        }
        return table
    }

    /// Writes the table as JSON, atomically (a temporary file renamed into place).
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFileWriter.write(try encoder.encode(self), to: URL(fileURLWithPath: path))
    }
}
