import Dispatch
import Synchronization

/// Opt-in accounting of where a training step's wall time and tensor memory go, per op family
/// (`temper-bench sft --profile`), so every speed change can be a measured one.
///
/// How time is attributed, with no clock in the op kernels themselves:
/// - forward: each recorded op's time is the wall time since the previous recorded op (or the last
///   `mark`) ended — ops run one after another on the calling thread, so this is the op plus the
///   little model code between two ops;
/// - backward: the autograd engine times each node's backward closure, and separately the summing of
///   gradients that meet at one tensor;
/// - GEMM time is measured inside `GEMM.sgemm` by role (forward, input gradient, weight gradient, a checkpoint's recompute)
///   and allocator time inside `TensorAllocator`; both are taken out of the op that called them, so
///   the families add up to the step's wall time without counting anything twice.
/// "Bytes" are the tensor buffers a family allocated (reused or new), the allocator's traffic.
/// Off by default: every hook is one well-predicted branch.
public enum OpProfiler {
    /// The rows of the profile.
    public enum Family: String, CaseIterable, Sendable {
        case gemmForward = "GEMM forward"
        case gemmInputGradient = "GEMM input-grad"
        case gemmWeightGradient = "GEMM weight-grad"
        case gemmRecompute = "GEMM recompute (checkpoints)"
        case projections = "linear/matmul outside GEMM"
        case attention = "attention"
        case norms = "norms"
        case rope = "RoPE"
        case elementwise = "elementwise"
        case views = "views and copies"
        case loss = "loss"
        case embedding = "embedding"
        case gradientAccumulation = "gradient accumulation"
        case checkpointed = "checkpointed layers (recompute + backward)"
        case optimizer = "optimizer"
        case allocator = "allocator"
        case other = "other"

        /// The family of a recorded op, by the name it passes to `record`.
        public static func of(op name: String) -> Family {
            switch name {
            case "linear", "linear_quantized", "matmul": return .projections
            case "attention", "softmax", "maskedFill": return .attention
            case "rmsNorm", "layerNorm": return .norms
            case "rope": return .rope
            case "crossEntropy", "linearCrossEntropy", "gatherLogProbs", "logSoftmax": return .loss
            case "embedding": return .embedding
            case "checkpoint": return .checkpointed
            case "reshape", "transpose", "permute", "narrow", "expand", "squeeze", "unsqueeze", "contiguous", "concat": return .views
            default: return .elementwise
            }
        }
    }

    /// Forward or backward half of a step.
    public enum Phase: Int, Sendable { case forward = 0, backward = 1 }

    /// Time, tensor bytes allocated and event count of one family in one phase.
    public struct Entry: Sendable, Equatable {
        public var nanoseconds: UInt64 = 0
        public var bytes: Int = 0
        public var calls: Int = 0
    }

    /// Whether the hooks record. Set from the thread that runs the model, outside any op.
    nonisolated(unsafe) public static var isEnabled = false
    /// True while the autograd engine runs backward closures (their inner ops are not forward ops).
    nonisolated(unsafe) static var inBackward = false
    /// Per family, forward and backward; behind a lock because allocations may come from worker threads.
    private static let entries = Mutex([[Entry]](repeating: [Entry(), Entry()], count: Family.allCases.count))
    nonisolated(unsafe) private static var lastMark: UInt64 = 0
    nonisolated(unsafe) private static var nestedAtMark: UInt64 = 0
    nonisolated(unsafe) private static var bytesAtMark = 0
    /// Nanoseconds measured by the nested hooks (GEMM, allocator), taken out of the enclosing op.
    private static let nested = Atomic<UInt64>(0)
    /// Bytes handed out by the allocator while enabled.
    private static let allocatedBytes = Atomic<Int>(0)
    private static let index: [Family: Int] = Dictionary(uniqueKeysWithValues: Family.allCases.enumerated().map { ($1, $0) })

    /// Clears every entry and starts the clock.
    public static func reset() {
        entries.withLock { $0 = [[Entry]](repeating: [Entry(), Entry()], count: Family.allCases.count) }
        mark()
    }

    /// Restarts the interval that the next recorded op will be charged with (call before a forward).
    public static func mark() {
        lastMark = DispatchTime.now().uptimeNanoseconds
        nestedAtMark = nested.load(ordering: .relaxed)
        bytesAtMark = allocatedBytes.load(ordering: .relaxed)
    }

    /// The entry of `family` in `phase`.
    public static func entry(_ family: Family, _ phase: Phase) -> Entry { entries.withLock { $0[index[family]!][phase.rawValue] } }

    /// Charges the interval since the last mark to `family`, less the nested GEMM and allocator time,
    /// and starts a new interval.
    public static func charge(_ family: Family, _ phase: Phase) {
        let now = DispatchTime.now().uptimeNanoseconds
        let n = nested.load(ordering: .relaxed), b = allocatedBytes.load(ordering: .relaxed)
        let own = (now &- lastMark) &- (n &- nestedAtMark)
        add(family, phase, nanoseconds: Int64(bitPattern: own) > 0 ? own : 0, bytes: b - bytesAtMark)
        lastMark = now; nestedAtMark = n; bytesAtMark = b
    }

    /// Runs `body` and charges its time to `family` (the optimizer step, the objective's glue).
    public static func measure<T>(_ family: Family, _ phase: Phase = .backward, _ body: () throws -> T) rethrows -> T {
        guard isEnabled else { return try body() }
        mark()
        defer { charge(family, phase) }
        return try body()
    }

    /// Adds a measured event; `nested` events (GEMM, allocator) are also taken out of the enclosing op.
    static func add(_ family: Family, _ phase: Phase, nanoseconds: UInt64, bytes: Int = 0, nested isNested: Bool = false) {
        if isNested {
            nested.add(nanoseconds, ordering: .relaxed)
        }
        let i = index[family]!
        entries.withLock {
            $0[i][phase.rawValue].nanoseconds &+= nanoseconds
            $0[i][phase.rawValue].bytes += bytes
            $0[i][phase.rawValue].calls += 1
        }
    }

    /// The allocator's hook: `bytes` handed out in `nanoseconds`, `fresh` when they came from the system.
    static func allocated(bytes: Int, nanoseconds: UInt64, fresh: Bool) {
        allocatedBytes.add(bytes, ordering: .relaxed)
        add(.allocator, inBackward ? .backward : .forward, nanoseconds: nanoseconds, bytes: fresh ? bytes : 0, nested: true)
    }

    /// The allocator's hook for a release, which takes time too (a free past the cache's cap).
    static func released(nanoseconds: UInt64) {
        add(.allocator, inBackward ? .backward : .forward, nanoseconds: nanoseconds, nested: true)
    }

    /// Called by `record` for every op while enabled and not inside backward.
    static func forwardOpEnded(_ name: String) { charge(Family.of(op: name), .forward) }
}
