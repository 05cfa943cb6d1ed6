import Dispatch
import Synchronization

/// Opt-in accounting of the wall time spent inside `GEMM.sgemm`, so a benchmark can report how a
/// training step splits between matrix products and everything else.
///
/// Off by default: then `sgemm` pays one well-predicted branch and reads no clock. Time is summed
/// per top-level `sgemm` call (its worker threads are not counted twice).
public enum GEMMProfiler {
    /// Whether `sgemm` calls are timed. Set it before the timed region, from one thread.
    nonisolated(unsafe) public static var isEnabled = false
    private static let nanoseconds = Atomic<UInt64>(0)
    private static let callCount = Atomic<Int>(0)

    /// Nanoseconds spent inside `sgemm` since the last `reset()` while enabled.
    public static var elapsedNanoseconds: UInt64 { nanoseconds.load(ordering: .relaxed) }
    /// `sgemm` calls counted since the last `reset()`.
    public static var calls: Int { callCount.load(ordering: .relaxed) }

    /// Zeroes the counters.
    public static func reset() {
        nanoseconds.store(0, ordering: .relaxed)
        callCount.store(0, ordering: .relaxed)
    }

    /// What a product is for in a training step, for `OpProfiler`'s GEMM rows.
    public enum Role: Sendable {
        /// `recompute`: a checkpointed segment's forward run again inside backward.
        case forward, inputGradient, weightGradient, recompute

        var family: OpProfiler.Family {
            switch self {
            case .forward: .gemmForward
            case .inputGradient: .gemmInputGradient
            case .weightGradient: .gemmWeightGradient
            case .recompute: .gemmRecompute
            }
        }
    }

    /// The role of the `sgemm` calls made now: `.forward` outside backward, `.inputGradient` inside it
    /// unless an op's backward says a product is its weight's gradient, or a checkpoint's recompute
    /// runs. Set on the calling thread only.
    nonisolated(unsafe) static var role = Role.forward

    /// Runs `body` with `role` set, restoring the previous one.
    @inline(__always)
    static func withRole<T>(_ r: Role, _ body: () -> T) -> T {
        let saved = role
        role = r
        defer { role = saved }
        return body()
    }

    /// Runs `body` and adds its wall time to the counters (and to `OpProfiler`'s row for the role).
    @inline(never)
    static func timed(_ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        let elapsed = DispatchTime.now().uptimeNanoseconds &- start
        if isEnabled {
            nanoseconds.add(elapsed, ordering: .relaxed)
            callCount.add(1, ordering: .relaxed)
        }
        if OpProfiler.isEnabled {
            OpProfiler.add(role.family, role == .forward ? .forward : .backward, nanoseconds: elapsed, nested: true)
        }
    }
}
