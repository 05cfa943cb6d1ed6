import Foundation

/// The progress line on the terminal: step / total, loss, learning rate, grad norm, tokens/s, ETA.
///
/// On a terminal the line is redrawn in place every step and kept at each logged step; when
/// stderr is a file or pipe only logged steps are written, one line each.
public final class ProgressReporter {
    private let write: (String) -> Void
    private let interactive: Bool
    private var lineOpen = false

    /// A reporter writing to `write` (default: stderr); `interactive` redraws in place.
    public init(interactive: Bool = isatty(2) == 1, write: @escaping (String) -> Void = ProgressReporter.standardError) {
        self.interactive = interactive
        self.write = write
    }

    /// Writes to stderr without buffering.
    public static func standardError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Reports a finished step; `logged` marks steps that are also written to metrics.jsonl.
    public func step(_ p: StepProgress, logged: Bool) {
        guard interactive || logged else { return }
        let text = p.line
        if interactive {
            write("\r\u{1B}[2K" + text + (logged ? "\n" : ""))
            lineOpen = !logged
        } else {
            write(text + "\n")
        }
    }

    /// A message on its own line (evaluation results, checkpoints, warnings).
    public func message(_ text: String) {
        if lineOpen { write("\n"); lineOpen = false }
        write(text + "\n")
    }
}

/// What one progress line shows.
public struct StepProgress {
    /// Steps done and in total.
    public var step: Int, total: Int
    /// Mean loss since the last logged step.
    public var loss: Double
    /// Learning rate of the step.
    public var learningRate: Double
    /// Gradient norm before clipping.
    public var gradNorm: Double
    /// Tokens (non-padding) per second since the last report.
    public var tokensPerSecond: Double
    /// Seconds left at the current pace.
    public var etaSeconds: Double
    /// Further values shown after the loss (on-policy runs: the mean reward).
    public var extra: [(name: String, value: Double)] = []

    /// The formatted line.
    public var line: String {
        let width = String(total).count
        let s = String(repeating: " ", count: max(0, width - String(step).count)) + String(step)
        let more = extra.map { " | \($0.name) \(String(format: "%.4g", $0.value))" }.joined()
        return "step \(s)/\(total) | loss \(String(format: "%.4f", loss))\(more) | lr \(String(format: "%.3e", learningRate)) | " +
               "grad norm \(String(format: "%.3f", gradNorm)) | \(String(format: "%.0f", tokensPerSecond)) tok/s | ETA \(Self.duration(etaSeconds))"
    }

    /// `1h02m`, `3m07s`, `12s`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) }
        if s >= 60 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return "\(s)s"
    }
}
