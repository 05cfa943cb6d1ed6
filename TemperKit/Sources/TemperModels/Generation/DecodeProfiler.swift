import Dispatch

/// Opt-in accounting of where a decode step's wall time goes (`temper-bench generate --profile`),
/// so every change to the decode loop is a measured one.
///
/// Off by default: each timed region then costs one well-predicted branch and reads no clock. Only
/// decode steps (one new token per row) are counted, not the prompt's prefill. The phases do not
/// nest; what no phase covers (embedding lookup, masks, stop checks, cache pruning, the calls
/// between ops) is the step's total less their sum.
public enum DecodeProfiler {
    /// The parts of a decode step, in the order a step runs them.
    public enum Phase: Int, CaseIterable, Sendable {
        /// RMSNorm before attention, before the MLP, and the final one.
        case norms
        /// The q, k, v, o, gate, up and down products of every layer.
        case projections
        /// Rotary embedding of q and k and the write of k, v into the cache.
        case ropeAndCache
        /// The single-query attention over the cached keys and values.
        case attention
        /// SiLU·up, the residual additions and the head-layout copies.
        case elementwise
        /// The LM head's product (logits of the last position only).
        case lmHead
        /// Repetition penalty, softmax, top-k/top-p/min-p and the draw, for every row.
        case sampling

        /// A name for the printed breakdown.
        public var label: String {
            switch self {
            case .norms: "RMSNorm"
            case .projections: "q/k/v/o/gate/up/down products"
            case .ropeAndCache: "RoPE + KV-cache write"
            case .attention: "attention (single query)"
            case .elementwise: "SiLU·up, residuals, layout copies"
            case .lmHead: "LM head (last position)"
            case .sampling: "sampling"
            }
        }
    }

    /// Whether decode steps are timed. Set it before generating, from one thread.
    nonisolated(unsafe) public static var isEnabled = false
    /// Set by the generator around each decode step while `isEnabled`: prefill is not counted.
    nonisolated(unsafe) static var recording = false
    nonisolated(unsafe) private static var phaseNanoseconds = [UInt64](repeating: 0, count: Phase.allCases.count)
    nonisolated(unsafe) private static var stepNanoseconds: UInt64 = 0
    nonisolated(unsafe) private static var stepCount = 0

    /// The counts since the last `reset()`.
    public struct Report: Sendable {
        /// Decode steps timed (one token for every live row each).
        public let steps: Int
        /// Their total wall time, in nanoseconds.
        public let totalNanoseconds: UInt64
        /// Wall time per phase, in nanoseconds.
        public let nanoseconds: [Phase: UInt64]

        /// What no phase covers.
        public var otherNanoseconds: UInt64 {
            let covered = nanoseconds.values.reduce(0, +)
            return totalNanoseconds > covered ? totalNanoseconds - covered : 0
        }
    }

    /// The counts so far.
    public static var report: Report {
        Report(steps: stepCount, totalNanoseconds: stepNanoseconds,
               nanoseconds: Dictionary(uniqueKeysWithValues: Phase.allCases.map { ($0, phaseNanoseconds[$0.rawValue]) }))
    }

    /// Zeroes the counts.
    public static func reset() {
        for i in phaseNanoseconds.indices { phaseNanoseconds[i] = 0 }
        stepNanoseconds = 0
        stepCount = 0
    }

    /// Runs `body`, adding its wall time to `phase` while a decode step is being recorded.
    @inline(__always)
    static func measure<R>(_ phase: Phase, _ body: () throws -> R) rethrows -> R {
        guard _slowPath(recording) else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { phaseNanoseconds[phase.rawValue] &+= DispatchTime.now().uptimeNanoseconds &- start }
        return try body()
    }

    /// Runs one decode step `body`, recording its phases and its total when profiling is on.
    @inline(__always)
    static func step<R>(decoding: Bool, _ body: () throws -> R) rethrows -> R {
        guard _slowPath(isEnabled && decoding) else { return try body() }
        recording = true
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            stepNanoseconds &+= DispatchTime.now().uptimeNanoseconds &- start
            stepCount += 1
            recording = false
        }
        return try body()
    }
}
