import Foundation

/// Shrinks a crashing or hanging input while it still fails the same way: whole chunks are cut,
/// from halves down to single bytes (delta debugging, one pass per chunk size), each candidate run
/// alone in a fresh child.
struct Minimizer {
    let child: ChildProcess
    let target: String
    let work: URL
    /// The crash reason to keep (e.g. "killed by signal 4 (Illegal instruction)"); nil for a hang.
    let expected: String?
    /// Time allowed for minimizing one input.
    let seconds: Double

    func minimize(_ input: [UInt8]) throws -> [UInt8] {
        let deadline = Date().addingTimeInterval(seconds)
        var best = input
        var chunk = max(1, best.count / 2)
        while chunk >= 1 && Date() < deadline {
            var i = 0
            while i < best.count && Date() < deadline {
                var candidate = best
                candidate.removeSubrange(i..<min(best.count, i + chunk))
                if try fails(candidate) { best = candidate } else { i += chunk }
            }
            if chunk == 1 { break }
            chunk /= 2
        }
        return best
    }

    private func fails(_ input: [UInt8]) throws -> Bool {
        let batch = work.appendingPathComponent("one.bin")
        try InputBatch.write([input], to: batch)
        var ignored = 0
        let outcome = try child.run(target: target, batch: batch, from: 0, scratch: work.appendingPathComponent("scratch"),
                                    stderrFile: work.appendingPathComponent("stderr.txt"), accepted: &ignored)
        switch outcome {
        case .crashed(_, let reason): return reason == expected
        case .hung: return expected == nil
        default: return false
        }
    }
}
