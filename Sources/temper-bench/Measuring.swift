import Foundation
import ArgumentParser
import TemperCore

/// Wall-clock seconds that one call of `body` takes.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// Fastest of `n` timed calls, in seconds: the figure least disturbed by other work on the machine.
func bestSeconds(of n: Int, _ body: () throws -> Void) rethrows -> Double {
    var fastest = Double.infinity
    for _ in 0..<n { fastest = min(fastest, try seconds(body)) }
    return fastest
}

/// Median of `values` (the mean of the middle two for an even count); 0 for none.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/// Peak resident set size of this process (VmHWM), in kilobytes.
func peakRSSKilobytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
    }
    return 0
}

/// "load average at start: 1.02 on 2 CPU(s)": printed by every comparing benchmark, because on a shared
/// machine the load decides how far a figure can be trusted.
func loadAverageLine() -> String {
    let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "unknown"
    return "load average at start: \(load) on \(ProcessInfo.processInfo.activeProcessorCount) CPU(s)"
}

/// The model a SmolLM2 benchmark loads (`--model`), shared by the subcommands that time it so
/// they agree on the default and on the message when it is missing.
struct BenchmarkModelOptions: ParsableArguments {
    @Option(help: "A .gguf file or Hugging Face directory.")
    var model = ".cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"

    /// Loads `model`; a missing file says how to fetch SmolLM2.
    func load() throws -> PretrainedModel {
        guard FileManager.default.fileExists(atPath: model) else { throw ValidationError("no model at \(model): run scripts/fetch-smollm2.sh") }
        return try PretrainedModel.load(from: URL(fileURLWithPath: model))
    }
}

/// Threads and timed steps of a benchmark that times training steps beside a reference run with
/// the same settings.
struct StepTimingOptions: ParsableArguments {
    @Option(help: "Threads, for Temper and the reference.")
    var threads = 2
    @Option(help: "Timed steps after one warm-up step; the best and the median are reported.")
    var steps = 3

    func validate() throws {
        guard threads > 0, steps > 0 else { throw ValidationError("--threads and --steps must be positive") }
    }
}
