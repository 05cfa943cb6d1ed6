import Foundation
#if canImport(Glibc)
import Glibc
#endif

// temper-fuzz: a seeded mutation fuzzer for the parsers of every file and string a user hands
// Temper. See `temper-fuzz help` and scripts/fuzz.sh.

let usage = """
usage: temper-fuzz list
       temper-fuzz run TARGET|all [--executions N] [--seed S] [--batch N] [--timeout SECONDS]
                       [--memory-mb MB] [--crashes DIR] [--minimize-seconds S] [--root DIR]
       temper-fuzz replay TARGET FILE [--root DIR]
       temper-fuzz child TARGET BATCH --from N --scratch DIR --memory-mb MB   (used by run)

run: every truncation of every seed, then random stacked mutations, N executions per target in
child processes of BATCH inputs; a child killed by a signal (a Swift trap, an allocation past
--memory-mb of address space) is a crash, an input running past --timeout a hang. Findings are
saved, minimized, under DIR/TARGET/ (default .build/fuzz-crashes/). Exit 0: no finding; 1: findings;
2: bad usage or a harness failure.
replay: runs one input in this process and prints whether the parser accepted or refused it.
"""

/// The repository checkout this executable was built from (seeds come from its fixtures/).
let defaultRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Options after the positional arguments, as `--name value`.
func options(_ args: ArraySlice<String>) throws -> (positional: [String], named: [String: String]) {
    var positional: [String] = [], named: [String: String] = [:]
    var i = args.startIndex
    while i < args.endIndex {
        let a = args[i]
        if a.hasPrefix("--") {
            guard i + 1 < args.endIndex else { throw FuzzError("option \(a) needs a value") }
            named[String(a.dropFirst(2))] = args[i + 1]
            i += 2
        } else {
            positional.append(a); i += 1
        }
    }
    return (positional, named)
}

func number<T: LosslessStringConvertible>(_ named: [String: String], _ key: String, _ fallback: T) throws -> T {
    guard let text = named[key] else { return fallback }
    guard let v = T(text) else { throw FuzzError("--\(key) \(text): expected a number") }
    return v
}

func target(named name: String) throws -> FuzzTarget {
    guard let t = (allTargets() + [HarnessSelfTestTarget()]).first(where: { $0.name == name }) else {
        throw FuzzError("unknown target '\(name)'; targets: " + allTargets().map(\.name).joined(separator: ", "))
    }
    return t
}

func main() throws -> Int32 {
    let args = CommandLine.arguments
    guard args.count >= 2 else { print(usage); return 2 }
    let (positional, named) = try options(args[2...])
    let known: Set<String> = ["executions", "seed", "batch", "timeout", "memory-mb", "crashes", "minimize-seconds", "root", "from", "scratch"]
    if let bad = named.keys.first(where: { !known.contains($0) }) { throw FuzzError("unknown option --\(bad)\n\(usage)") }
    let material = SeedMaterial(root: named["root"].map { URL(fileURLWithPath: $0) } ?? defaultRoot)
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? args[0]

    switch args[1] {
    case "list":
        for t in allTargets() { print("\(t.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(t.summary)") }
        return 0
    case "child":
        guard positional.count == 2, let scratch = named["scratch"] else { throw FuzzError(usage) }
        try ChildMode.run(target: try target(named: positional[0]), batch: URL(fileURLWithPath: positional[1]),
                          from: try number(named, "from", 0), scratch: URL(fileURLWithPath: scratch),
                          memoryMB: try number(named, "memory-mb", 2048), material: material)
    case "replay":
        guard positional.count == 2 else { throw FuzzError(usage) }
        let t = try target(named: positional[0])
        guard let data = FileManager.default.contents(atPath: positional[1]) else { throw FuzzError("\(positional[1]): cannot be read") }
        let scratch = scratchRoot().appendingPathComponent("temper-fuzz-replay-\(getpid())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        try t.setUp(material, scratch: scratch)
        do { try t.execute([UInt8](data)); print("accepted") } catch { print("refused: \(error)") }
        return 0
    case "run":
        guard positional.count == 1 else { throw FuzzError(usage) }
        var s = CampaignSettings()
        s.executions = try number(named, "executions", s.executions)
        s.seed = try number(named, "seed", s.seed)
        s.batchSize = max(1, try number(named, "batch", s.batchSize))
        s.inputTimeout = try number(named, "timeout", s.inputTimeout)
        s.memoryMB = try number(named, "memory-mb", s.memoryMB)
        s.minimizeSeconds = try number(named, "minimize-seconds", s.minimizeSeconds)
        if let c = named["crashes"] { s.crashFolder = URL(fileURLWithPath: c) }
        let targets = positional[0] == "all" ? allTargets() : [try target(named: positional[0])]
        var total = 0
        for t in targets {
            let campaign = Campaign(target: t, settings: s, material: material, executable: executable)
            let seconds = try campaign.run()
            let crashes = campaign.findings.values.filter { $0.kind == "crash" }.reduce(0) { $0 + $1.count }
            let hangs = campaign.findings.values.filter { $0.kind == "hang" }.reduce(0) { $0 + $1.count }
            let rate = Double(campaign.executed) / max(seconds, 1e-9)
            let share = 100 * Double(campaign.accepted) / Double(max(campaign.executed, 1))
            print(String(format: "%@: %d executions in %.1f s (%.0f/s), %.1f %% accepted, %d crashes, %d hangs",
                         t.name, campaign.executed, seconds, rate, share, crashes, hangs)
                  + (campaign.slow > 0 ? " (\(campaign.slow) slow under load: past --timeout in a batch, done within 5× alone)" : ""))
            for report in try campaign.saveFindings() { print("  finding: \(report.path)") }
            total += crashes + hangs
            fflush(stdout)
        }
        return total == 0 ? 0 : 1
    default:
        print(usage)
        return 2
    }
}

do { exit(try main()) } catch {
    FileHandle.standardError.write(Data("temper-fuzz: \(error)\n".utf8))
    exit(2)
}
