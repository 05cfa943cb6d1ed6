import Foundation
import Synchronization

/// Persistent worker threads behind `Parallel.forEach`.
///
/// Decoding one token runs a few hundred small kernels; `DispatchQueue.concurrentPerform` takes
/// 10–30 µs to get a second thread going, a sizeable share of a kernel that itself takes tens of
/// microseconds. These workers instead wait for the next job spinning for a short while, and only
/// then sleep, so back-to-back kernels find them awake.
///
/// One job runs at a time. The caller offers it to each worker through that worker's slot, takes
/// indices itself, and before returning either withdraws an offer nobody took or waits for the
/// worker that took it to finish — so the job's closure is never touched after `run` returns.
/// A call made while a job is running (from a kernel nested in another, or from a second thread)
/// runs serially on its caller.
final class WorkerPool: @unchecked Sendable {
    /// Slot states.
    private static let idle = 0, offered = 1, taken = 2, done = 3
    /// Polls of its slot a worker makes before it sleeps (tens of microseconds).
    private static let spinLimit = 20_000

    /// One worker's mailbox (a class, so the atomic has a stable address inside an array).
    private final class Slot: Sendable {
        let state = Atomic<Int>(WorkerPool.idle)
    }

    private let slots: [Slot]
    private let next = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let condition = NSCondition()
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    nonisolated(unsafe) private var jobCount = 0

    /// The pool shared by all kernels, with one worker per extra thread the machine offers.
    /// (or per extra thread of `Parallel.threadCount` as first read, if that is more).
    static let shared = WorkerPool(workers: max(ProcessInfo.processInfo.activeProcessorCount, Parallel.threadCount) - 1)

    /// Starts `workers` threads that live as long as the process.
    init(workers: Int) {
        slots = (0..<workers).map { _ in Slot() }
        for w in 0..<workers {
            let thread = Thread { [unowned self] in self.work(slot: w) }
            thread.name = "temper-worker-\(w)"
            thread.start()
        }
    }

    /// Worker threads available.
    var workerCount: Int { slots.count }

    /// Runs `body(i)` for `i` in `0..<count` on the caller and up to `helpers` workers.
    func run(_ count: Int, helpers: Int, _ body: (Int) -> Void) {
        let helpers = min(helpers, slots.count, count - 1)
        guard helpers > 0, busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escaping in
            job = escaping
            jobCount = count
            next.store(0, ordering: .sequentiallyConsistent)
            for w in 0..<helpers { slots[w].state.store(WorkerPool.offered, ordering: .sequentiallyConsistent) }
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                condition.lock()
                condition.broadcast()
                condition.unlock()
            }
            drain(escaping, count)
            for w in 0..<helpers {
                if slots[w].state.compareExchange(expected: WorkerPool.offered, desired: WorkerPool.idle,
                                            ordering: .sequentiallyConsistent).exchanged { continue }
                while slots[w].state.load(ordering: .acquiring) != WorkerPool.done {}
                slots[w].state.store(WorkerPool.idle, ordering: .sequentiallyConsistent)
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Takes indices of the current job until none are left.
    private func drain(_ body: (Int) -> Void, _ count: Int) {
        while true {
            let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
            if i >= count { return }
            body(i)
        }
    }

    /// A worker's share of the job it took; out of line so its reference to the closure is gone
    /// before the worker reports it is done.
    @inline(never)
    private func runTakenJob() {
        if let body = job { drain(body, jobCount) }
    }

    private func work(slot w: Int) {
        let mine = slots[w]
        while true {
            var spins = 0
            while mine.state.load(ordering: .sequentiallyConsistent) != WorkerPool.offered {
                spins += 1
                if spins < WorkerPool.spinLimit { continue }
                condition.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while mine.state.load(ordering: .sequentiallyConsistent) != WorkerPool.offered { condition.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                condition.unlock()
            }
            guard mine.state.compareExchange(expected: WorkerPool.offered, desired: WorkerPool.taken,
                                       ordering: .sequentiallyConsistent).exchanged else { continue }
            runTakenJob()
            mine.state.store(WorkerPool.done, ordering: .releasing)
        }
    }
}
