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

    /// Runs `body` and adds its wall time to the counters.
    @inline(never)
    static func timed(_ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        nanoseconds.add(DispatchTime.now().uptimeNanoseconds &- start, ordering: .relaxed)
        callCount.add(1, ordering: .relaxed)
    }
}
