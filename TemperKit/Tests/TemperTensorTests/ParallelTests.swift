import Dispatch
import Synchronization
import XCTest
@testable import TemperTensor

/// `Parallel` on the persistent worker pool: every index runs exactly once, across many
/// back-to-back jobs (workers spinning and sleeping in between), nested calls and calls from
/// several threads at once (which fall back to serial instead of deadlocking).
final class ParallelTests: XCTestCase {
    func testEveryIndexRunsExactlyOnce() {
        for round in 0..<2000 {
            let count = 1 + round % 37
            var hits = [Int](repeating: 0, count: count)
            hits.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress!
                Parallel.forEach(count) { i in p[i] += 1 }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: count), "round \(round)")
        }
    }

    func testWorkersWakeAfterSleeping() {
        var hits = [Int](repeating: 0, count: 64)
        for _ in 0..<3 {
            usleep(20_000)   // long enough for the workers to stop spinning and sleep
            hits.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress!
                Parallel.forEach(64) { i in p[i] += 1 }
            }
        }
        XCTAssertEqual(hits, [Int](repeating: 3, count: 64))
    }

    func testNestedCallsRunEveryIndex() {
        var hits = [Int](repeating: 0, count: 12 * 10)
        hits.withUnsafeMutableBufferPointer { h in
            let p = h.baseAddress!
            Parallel.forEach(12) { i in
                Parallel.forEach(10) { j in p[i * 10 + j] += 1 }
            }
        }
        XCTAssertEqual(hits, [Int](repeating: 1, count: 120))
    }

    func testConcurrentCallersAllComplete() {
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<200 {
                Parallel.forEach(16) { _ in total.add(1, ordering: .relaxed) }
            }
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 8 * 200 * 16)
    }

    func testForRangesCoversTheRangeOnce() {
        for total in [1, 7, 100, 1001] {
            var hits = [Int](repeating: 0, count: total)
            hits.withUnsafeMutableBufferPointer { h in
                let p = h.baseAddress!
                Parallel.forRanges(total, grain: 3) { r in for i in r { p[i] += 1 } }
            }
            XCTAssertEqual(hits, [Int](repeating: 1, count: total), "total \(total)")
        }
    }
}
