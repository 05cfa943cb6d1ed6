import Foundation
@testable import TemperCore

/// Ranks of one job as threads of the test process: every collective is an all-gather of bytes
/// through a shared rendezvous, sums added in rank order (rank 0's buffer + rank 1's + ...) as a
/// two-rank MPI_SUM gives them. For testing the data-parallel logic without Open MPI.
///
/// The tensor runtime keeps process-wide state (allocator caches, grad mode, the worker pool), so
/// the ranks take turns: a rank runs while it holds the rendezvous lock and lets it go only while
/// it waits in a collective, as separate processes would block there. A rank that ends (returns or
/// throws) makes the collectives still waiting for it throw, as MPI_ERRORS_RETURN does.
final class ThreadRanks {
    private let condition = NSCondition()
    private var slots: [[UInt8]?]
    private var arrived = 0
    private var generation = 0
    private var result: [[UInt8]] = []
    private var ended: Int? = nil
    let size: Int

    init(size: Int) {
        self.size = size
        slots = Array(repeating: nil, count: size)
    }

    /// Called with the lock held (by a running rank): blocks until every rank has handed its
    /// bytes; returns them all in rank order.
    func exchange(rank: Int, _ bytes: [UInt8]) throws -> [[UInt8]] {
        let mine = generation
        slots[rank] = bytes
        arrived += 1
        if arrived == size {
            result = slots.map { $0! }
            slots = Array(repeating: nil, count: size)
            arrived = 0
            generation += 1
            condition.broadcast()
        } else {
            // The next exchange cannot complete before this rank joins it, so `result` is still ours.
            while generation == mine && ended == nil { condition.wait() }
            if generation == mine, let ended { throw TrainingError("rank \(rank): rank \(ended) left the job during a collective") }
        }
        return result
    }

    /// Runs `body(communicator)` for every rank on its own thread; returns the results in rank order.
    func run<T>(_ body: @escaping (ThreadCommunicator) throws -> T) throws -> [T] {
        let results = RankResults<T>(count: size)
        let group = DispatchGroup()
        for r in 0..<size {
            let thread = Thread {
                self.condition.lock()
                results.values[r] = Result { try body(ThreadCommunicator(rank: r, ranks: self)) }
                if self.ended == nil { self.ended = r }
                self.condition.broadcast()
                self.condition.unlock()
                group.leave()
            }
            thread.stackSize = 16 << 20
            group.enter()
            thread.start()
        }
        group.wait()
        return try results.values.map { try $0!.get() }
    }
}

/// What each rank's thread returned: written under the rendezvous lock, read after every thread has left.
private final class RankResults<T>: @unchecked Sendable {
    var values: [Result<T, Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
}

/// One thread's view of `ThreadRanks`.
final class ThreadCommunicator: Communicator {
    let rank: Int
    let ranks: ThreadRanks
    var worldSize: Int { ranks.size }
    /// Collectives this rank made, for tests that count them.
    var calls = 0

    init(rank: Int, ranks: ThreadRanks) {
        self.rank = rank
        self.ranks = ranks
    }

    private func sum<T>(_ buffer: UnsafeMutableBufferPointer<T>, _ add: (T, T) -> T, counted: Bool = true) throws {
        if counted { calls += 1 }
        let all = try ranks.exchange(rank: rank, Array(UnsafeRawBufferPointer(buffer)))
        for i in buffer.indices {
            var total = all[0].withUnsafeBytes { $0.load(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self) }
            for r in 1..<all.count { total = add(total, all[r].withUnsafeBytes { $0.load(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self) }) }
            buffer[i] = total
        }
    }

    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws { try sum(buffer, +) }
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws { try sum(buffer, +) }
    /// Counted when started, summed when waited for: a rank must not block inside backward here,
    /// where the ranks share the process's grad mode (as MPI moves a non-blocking sum only inside
    /// MPI calls, `test()` moves nothing).
    func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> any PendingCollective {
        calls += 1
        return DeferredSum { try self.sum(buffer, +, counted: false) }
    }
    func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] { calls += 1; return try ranks.exchange(rank: rank, bytes)[root] }
    func barrier() throws { calls += 1; _ = try ranks.exchange(rank: rank, []) }
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { calls += 1; return try ranks.exchange(rank: rank, bytes) }
}

/// A thread rank's started sum: the exchange runs in `wait()`.
final class DeferredSum: PendingCollective {
    private var run: (() throws -> Void)?
    init(_ run: @escaping () throws -> Void) { self.run = run }
    func test() throws -> Bool { run == nil }
    func wait() throws {
        try run?()
        run = nil
    }
}
