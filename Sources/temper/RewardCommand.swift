import ArgumentParser
import Foundation
import TemperCore

/// `temper reward`: grades existing completions with reward plugins.
struct RewardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward",
        abstract: "Score the completions in a JSONL file with one or more rewards.",
        discussion: """
            Each row holds `completion` (a string, or messages whose last assistant content is scored), optionally \
            `prompt` and `completion_ids`, and the columns the rewards read (e.g. `answer`). Standard output gets one \
            JSON object per row: {"index": line, "reward": total, "rewards": {name: score}}, where `index` is the row's \
            line in the file and a score is null where a reward does not apply; the total is the weighted sum of the \
            scores present (--reward format:weight=0.2). A malformed row gets {"index": line, "error": why} and is \
            reported on standard error; the good rows are still scored (--strict: exit non-zero when any row was \
            malformed). Standard error ends with each reward's mean, std and how many rows it scored.
            """
    )

    @Option(name: .customLong("reward"), help: "Reward spec, e.g. math-equiv or format:weight=0.2 (repeatable).")
    var rewards: [String] = []

    @Option(help: "JSONL file of completions.")
    var data: String

    @Option(name: .customLong("batch-size"), help: "Rows scored per call of each reward.")
    var batchSize = 1024

    @Flag(help: "Exit with an error (after scoring the good rows) when any row is malformed.")
    var strict = false

    @OptionGroup var options: PluginOptions

    func validate() throws {
        guard !rewards.isEmpty else { throw ValidationError("give at least one --reward SPEC") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        options.loadPlugins()
        let terms: [WeightedReward]
        do { terms = try rewards.map { try ComponentRegistry.shared.reward($0) } } catch let e as SpecError {
            throw CommandError(description: e.message)
        }
        let labels = Self.labels(for: terms, specs: rewards)
        let file: CompletionFile
        do { file = try CompletionFile(path: data) } catch let e as TrainingDataError {
            throw CommandError(description: e.description)
        }

        var stats = [RewardStatistics](repeating: RewardStatistics(), count: terms.count)
        var totalStats = RewardStatistics()
        // Malformed rows are reported first (a reward failing later must not hide them) and answered
        // in line order among the good ones.
        FileHandle.standardError.write(Data(file.invalidRows.map { "skipped \($0.description)\n" }.joined().utf8))
        var pendingInvalid = file.invalidRows[...]
        func invalidRows(before line: Int) -> String {
            var out = ""
            while let bad = pendingInvalid.first, (bad.line ?? 0) < line {
                pendingInvalid.removeFirst()
                let why = bad.field.map { "field '\($0)': \(bad.reason)" } ?? bad.reason
                out += #"{"index":\#(bad.line ?? 0),"error":\#(ColumnValue.string(why).json)}"# + "\n"
            }
            return out
        }
        for start in stride(from: 0, to: file.count, by: batchSize) {
            let range = start..<min(file.count, start + batchSize)
            let batch = file.batch(range)
            let scores = try terms.enumerated().map { k, term in
                try Self.score(term, label: labels[k], batch, lines: file.lines[range.lowerBound]...file.lines[range.upperBound - 1])
            }
            var out = ""
            for (offset, row) in range.enumerated() {
                out += invalidRows(before: file.lines[row])
                var total: Float?
                var cells: [String] = []
                for (k, term) in terms.enumerated() {
                    let s = scores[k][offset]
                    stats[k].add(s)
                    if let s { total = (total ?? 0) + term.weight * s }
                    cells.append(ColumnValue.string(labels[k]).json + ":" + Self.json(s))
                }
                totalStats.add(total)
                out += #"{"index":\#(file.lines[row]),"reward":\#(Self.json(total)),"rewards":{\#(cells.joined(separator: ","))}}"# + "\n"
            }
            FileHandle.standardOutput.write(Data(out.utf8))
        }
        FileHandle.standardOutput.write(Data(invalidRows(before: .max).utf8))
        let rows = terms.indices.map { k in Self.summaryRow(labels[k], weight: terms[k].weight, stats[k]) }
            + [Self.summaryRow("total", weight: nil, totalStats)]
        FileHandle.standardError.write(Data((TextTable.render(header: ["REWARD", "WEIGHT", "MEAN", "STD", "SCORED"], rows: rows) + "\n").utf8))
        if !file.invalidRows.isEmpty {
            let counted = "\(file.invalidRows.count) of \(file.count + file.invalidRows.count) rows of \(data) are malformed"
            if strict { throw CommandError(description: counted + " (--strict)") }
            FileHandle.standardError.write(Data("\(counted) and were skipped\n".utf8))
        }
    }

    /// Scores one batch, checking the reward's answer; errors name the reward and the lines.
    private static func score(_ term: WeightedReward, label: String, _ batch: RewardBatch, lines: ClosedRange<Int>) throws -> [Float?] {
        let scores: [Float?]
        do { scores = try term.reward.score(batch) } catch {
            throw CommandError(description: "\(label) failed on lines \(lines.lowerBound)–\(lines.upperBound): \(error)")
        }
        guard scores.count == batch.count else {
            throw CommandError(description: "\(label) returned \(scores.count) scores for \(batch.count) completions")
        }
        if let bad = scores.firstIndex(where: { $0.map { !$0.isFinite } ?? false }) {
            throw CommandError(description: "\(label) returned \(scores[bad]!) for the completion at index \(bad) of lines \(lines.lowerBound)–\(lines.upperBound)")
        }
        return scores
    }

    /// Output names: the reward's name; its whole spec (less `weight=`) where a name repeats; and
    /// `#2`, `#3`, ... after a spec given more than once, so every key is distinct.
    static func labels(for terms: [WeightedReward], specs: [String]) -> [String] {
        var counts: [String: Int] = [:]
        for t in terms { counts[t.name, default: 0] += 1 }
        var used: [String: Int] = [:]
        return zip(terms, specs).map { term, spec in
            var label = term.name
            if counts[term.name]! > 1, let parsed = try? ComponentSpec(parsing: spec) { label = parsed.removing("weight").0.description }
            used[label, default: 0] += 1
            return used[label]! > 1 ? "\(label)#\(used[label]!)" : label
        }
    }

    private static func json(_ x: Float?) -> String {
        guard let x else { return "null" }
        return x == x.rounded() && abs(x) < 1e7 ? String(Int(x)) : "\(x)"
    }

    private static func summaryRow(_ name: String, weight: Float?, _ s: RewardStatistics) -> [String] {
        [name, weight.map { "\($0)" } ?? "", s.mean.map { String(format: "%.4f", $0) } ?? "-",
         s.std.map { String(format: "%.4f", $0) } ?? "-", "\(s.count)/\(s.seen)"]
    }
}
