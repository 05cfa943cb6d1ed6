import Foundation

/// The runtime's one pool of worker threads.
///
/// Kernels split their work into chunks and run them with `Parallel.forEach`; below a size
/// threshold they stay on the calling thread, where a dispatch would cost more than it saves.
/// Work is split by *index*, never by thread identity, so results do not depend on the thread count.
/// The chunks run on the caller and on `WorkerPool`'s persistent threads, which stay awake briefly
/// between jobs so the many small kernels of a decode step do not each pay a thread wake-up.
public enum Parallel {
    /// Threads kernels may use: `TEMPER_NUM_THREADS` if set, else the number of active cores.
    nonisolated(unsafe) public static var threadCount: Int = {
        if let s = ProcessInfo.processInfo.environment["TEMPER_NUM_THREADS"], let n = Int(s), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Runs `body(i)` for every `i` in `0..<count`, on up to `threadCount` threads.
    /// `body` must only write memory that belongs to its own index.
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || threadCount == 1 {
            for i in 0..<count { body(i) }
            return
        }
        WorkerPool.shared.run(count, helpers: threadCount - 1, body)
    }

    /// Splits `0..<total` into contiguous ranges of at least `grain` items, one per thread at most,
    /// and runs `body(range)` for each. Stays serial when `total < 2 * grain`.
    public static func forRanges(_ total: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        if total <= 0 { return }
        let chunks = min(threadCount, max(1, total / max(grain, 1)))
        if chunks <= 1 { body(0..<total); return }
        let per = (total + chunks - 1) / chunks
        forEach(chunks) { c in
            let lo = c * per
            let hi = min(total, lo + per)
            if lo < hi { body(lo..<hi) }
        }
    }
}
