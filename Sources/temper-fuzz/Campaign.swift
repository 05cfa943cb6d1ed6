import Foundation

/// Settings of one campaign, from the command line.
struct CampaignSettings {
    var executions = 100_000
    var seed: UInt64 = 1
    var batchSize = 2_000
    var inputTimeout = 2.0
    var memoryMB = 2_048
    var crashFolder = URL(fileURLWithPath: ".build/fuzz-crashes")
    var minimizeSeconds = 120.0
}

/// A crash or hang, its first input and how often it recurred.
struct Finding {
    var kind: String
    var reason: String
    var stderrHead: String
    var input: [UInt8]
    var count: Int
}

/// Runs one target for a number of executions: first every truncation of every seed (all points
/// in the first 2 KiB, then 512 evenly spaced), then stacked random mutations of random seeds, in
/// batches run by child processes. Crashes and hangs are saved with their stderr and minimized.
final class Campaign {
    let target: FuzzTarget
    let settings: CampaignSettings
    let material: SeedMaterial
    let child: ChildProcess
    private(set) var findings: [String: Finding] = [:]
    private(set) var executed = 0
    private(set) var accepted = 0
    /// Inputs that passed the time limit in a batch but finished alone with five times the limit.
    private(set) var slow = 0

    init(target: FuzzTarget, settings: CampaignSettings, material: SeedMaterial, executable: String) {
        self.target = target
        self.settings = settings
        self.material = material
        child = ChildProcess(executable: executable, inputTimeout: settings.inputTimeout, memoryMB: settings.memoryMB)
    }

    /// Runs the campaign; returns the wall time in seconds.
    func run() throws -> Double {
        let seeds = try target.seeds(material)
        guard !seeds.isEmpty else { throw FuzzError("\(target.name): no seeds") }
        let mutations = seeds.map { Mutation(target: target, seed: $0.bytes, headerEnd: $0.headerEnd) }
        let seedBytes = seeds.map(\.bytes)
        var rng = FuzzRandom(seed: settings.seed)
        var truncations: [[UInt8]] = []
        for s in seedBytes {
            let points = Array(0..<min(s.count, 2048)) + (s.count > 2048 ? stride(from: 2048, to: s.count, by: max(1, (s.count - 2048) / 512)).map { $0 } : [])
            truncations += points.map { Array(s[..<$0]) }
        }
        let work = scratchRoot().appendingPathComponent("temper-fuzz-\(target.name)-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let start = Date()
        var nextTruncation = 0
        while executed < settings.executions {
            var batch: [[UInt8]] = []
            while batch.count < min(settings.batchSize, settings.executions - executed) {
                if nextTruncation < truncations.count {
                    batch.append(truncations[nextTruncation]); nextTruncation += 1
                } else {
                    let k = rng.below(seedBytes.count)
                    batch.append(mutations[k].mutant(of: seedBytes[k], rng: &rng, others: seedBytes))
                }
            }
            try runBatch(batch, work: work)
            executed += batch.count
        }
        return Date().timeIntervalSince(start)
    }

    private func runBatch(_ batch: [[UInt8]], work: URL) throws {
        let batchFile = work.appendingPathComponent("batch.bin")
        let stderrFile = work.appendingPathComponent("stderr.txt")
        try InputBatch.write(batch, to: batchFile)
        var from = 0
        while from < batch.count {
            let outcome = try child.run(target: target.name, batch: batchFile, from: from, scratch: work.appendingPathComponent("scratch"),
                                        stderrFile: stderrFile, accepted: &accepted)
            switch outcome {
            case .finished:
                return
            case .crashed(let i, let reason):
                record(kind: "crash", reason: reason, input: batch[i], stderrFile: stderrFile)
                from = i + 1
            case .hung(let i):
                // One confirmed hang stands for the others: confirming each would cost 6× the limit.
                let confirmed = findings.values.contains { $0.kind == "hang" }
                if try confirmed || hangsAlone(batch[i], work: work) {
                    record(kind: "hang", reason: "no result within \(settings.inputTimeout) s", input: batch[i], stderrFile: stderrFile)
                } else {
                    slow += 1
                }
                from = i + 1
            case .setupFailed(let reason):
                let tail = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
                throw FuzzError("\(target.name): the child failed before its first input (\(reason)):\n\(tail)")
            }
        }
    }

    /// Whether an input that ran past the limit in a batch still does alone, in a fresh child given
    /// five times the limit: on a loaded machine a child can be descheduled past a short limit, and
    /// such an input is counted as slow, not reported as a hang.
    private func hangsAlone(_ input: [UInt8], work: URL) throws -> Bool {
        let patient = ChildProcess(executable: child.executable, inputTimeout: 5 * settings.inputTimeout, memoryMB: settings.memoryMB)
        let batch = work.appendingPathComponent("alone.bin")
        try InputBatch.write([input], to: batch)
        var ignored = 0
        let outcome = try patient.run(target: target.name, batch: batch, from: 0, scratch: work.appendingPathComponent("scratch"),
                                      stderrFile: work.appendingPathComponent("alone-stderr.txt"), accepted: &ignored)
        if case .hung = outcome { return true }
        return false
    }

    /// Files a finding under its signature: the kind, the way the child died and Swift's
    /// "Fatal error" line with digits removed (so one bug with many sizes is one finding).
    private func record(kind: String, reason: String, input: [UInt8], stderrFile: URL) {
        let stderr = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
        let fatal = stderr.split(separator: "\n").first { $0.contains("Fatal error") || $0.contains("error:") }.map(String.init) ?? ""
        let signature = kind + " " + reason + " " + String(fatal.filter { !$0.isNumber })
        if findings[signature] != nil { findings[signature]!.count += 1; return }
        findings[signature] = Finding(kind: kind, reason: reason, stderrHead: String(stderr.prefix(3000)), input: input, count: 1)
    }

    /// Saves every finding (input, minimized input, report) under the crash folder; returns the
    /// report files written.
    func saveFindings() throws -> [URL] {
        guard !findings.isEmpty else { return [] }
        let folder = settings.crashFolder.appendingPathComponent(target.name)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let work = scratchRoot().appendingPathComponent("temper-fuzz-min-\(target.name)-\(getpid())")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var reports: [URL] = []
        for (n, f) in findings.values.sorted(by: { $0.count > $1.count }).enumerated() {
            let base = folder.appendingPathComponent("\(f.kind)-\(n + 1)")
            try Data(f.input).write(to: base.appendingPathExtension("input"), options: .atomic)
            let minimizer = Minimizer(child: child, target: target.name, work: work, expected: f.kind == "hang" ? nil : f.reason,
                                      seconds: settings.minimizeSeconds)
            let small = try minimizer.minimize(f.input)
            try Data(small).write(to: base.appendingPathExtension("min.input"), options: .atomic)
            let report = """
            target: \(target.name)
            \(f.kind): \(f.reason), \(f.count) input(s) with this signature
            input: \(base.lastPathComponent).input (\(f.input.count) bytes); minimized: \(base.lastPathComponent).min.input (\(small.count) bytes)
            replay: temper-fuzz replay \(target.name) \(base.path).min.input
            minimized input (escaped): \(escaped(small))
            stderr of the child (its start: the error and the first frames):
            \(f.stderrHead)

            """
            let url = base.appendingPathExtension("txt")
            try report.write(to: url, atomically: true, encoding: .utf8)
            reports.append(url)
        }
        return reports
    }

    private func escaped(_ bytes: [UInt8]) -> String {
        bytes.prefix(600).map { b in
            (b >= 0x20 && b < 0x7F && b != 0x5C) ? String(UnicodeScalar(b)) : String(format: "\\x%02x", b)
        }.joined() + (bytes.count > 600 ? "…" : "")
    }
}
