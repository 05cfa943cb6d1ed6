import Foundation
@testable import TemperCore
import XCTest

/// The gradient sum started during backward (`OverlappedGradientAllReduce`) on ranks on threads:
/// when buckets leave, that their sums are `GradientAllReduce.sum`'s to the bit, and the redo when a
/// gradient changes after its bucket left.
final class OverlappedGradientAllReduceTests: XCTestCase {
    /// Parameters c (1), a (5), b (2), d (3) and a loss in which d is used last, so backward reaches
    /// d, b, a in that order and never c. Each rank's inputs differ.
    private func graph(rank: Int) -> (parameters: [NamedParameter], loss: Tensor) {
        let names = ["c", "a", "b", "d"], sizes = [1, 5, 2, 3]
        let parameters = zip(names, sizes).enumerated().map { k, pair -> NamedParameter in
            let t = Tensor(shape: [pair.1], scalars: (0..<pair.1).map { Float($0 + k) * 0.37 - 0.5 })
            t.requiresGrad = true
            return NamedParameter(name: pair.0, tensor: t)
        }
        let a = parameters[1].tensor, b = parameters[2].tensor, d = parameters[3].tensor
        let r = Float(rank + 1)
        let x = Tensor(shape: [5], scalars: (0..<5).map { Float($0) * 0.1 * r + 0.3 })
        let h = ((a * x).sum() * r).tanh()
        let loss = ((b * h).sum() * (d * d).sum() + d.sum() * h) * 1.7
        return (parameters, loss)
    }

    func testBucketsLeaveDuringBackwardAndSumLikeTheBlockingReduction() throws {
        let results = try ThreadRanks(size: 2).run { comm -> (overlapped: [[Float]?], blocking: [[Float]?], callsInBackward: Int, calls: Int) in
            // Buckets of 3 floats, in reverse parameter order: [d], [b], [a], [c].
            let (parameters, loss) = self.graph(rank: comm.rank)
            let overlap = OverlappedGradientAllReduce(parameters, communicator: comm, bucketElements: 3)
            var callsInBackward = -1
            try overlap.backward {
                loss.backward()
                callsInBackward = comm.calls
            }
            try overlap.finish()
            XCTAssertFalse(overlap.redone)
            XCTAssertEqual(overlap.bucketNames, [["d"], ["b"], ["a"], ["c"]], "reverse parameter order by default")
            XCTAssertEqual(overlap.observedOrder.last, 0, "c, never reached, comes last")
            XCTAssertEqual(Set(overlap.observedOrder.prefix(3)), [1, 2, 3])
            let calls = comm.calls
            let (again, lossAgain) = self.graph(rank: comm.rank)
            lossAgain.backward()
            try GradientAllReduce.sum(again, communicator: comm, bucketElements: 3)
            return (parameters.map { $0.tensor.grad?.scalars }, again.map { $0.tensor.grad?.scalars }, callsInBackward, calls)
        }
        for r in results {
            XCTAssertEqual(r.callsInBackward, 3, "the buckets of d, b and a left during backward")
            XCTAssertEqual(r.calls, 5, "c's bucket left in finish(), then one reduction of the 'changed late' flags")
            XCTAssertNil(r.overlapped[0], "no rank had a gradient for c: it keeps none")
            XCTAssertEqual(r.overlapped, r.blocking, "bit for bit the blocking reduction's sums")
            XCTAssertEqual(r.overlapped[3]?.count, 3)
        }
        XCTAssertEqual(results[0].overlapped, results[1].overlapped, "every rank holds the same sums")
        XCTAssertNotEqual(results[0].overlapped[1], [0, 0, 0, 0, 0])
    }

    func testAGradientAddedAfterItsBucketLeftMakesEveryRankRedoTheSum() throws {
        // w is used in two checkpointed segments: backward adds into it once per segment, the second
        // time after its bucket (w alone) has left. Only rank 1 has the second use.
        let results = try ThreadRanks(size: 2).run { comm -> ([Float], [Float], Bool) in
            func run() -> (NamedParameter, Tensor) {
                let w = Tensor(shape: [2], scalars: [0.5, -1.25])
                w.requiresGrad = true
                let x = Tensor(shape: [2], scalars: [1.5, Float(comm.rank) + 0.25])
                x.requiresGrad = true
                let first = Tensor.checkpoint([x]) { (($0[0] * w).sum()).tanh() }
                let loss = comm.rank == 1 ? first + Tensor.checkpoint([first]) { ($0[0] * w.sum()) * 2 } : first * 3
                return (NamedParameter(name: "w", tensor: w), loss)
            }
            let (w, loss) = run()
            let overlap = OverlappedGradientAllReduce([w], communicator: comm, bucketElements: 2)
            try overlap.backward { loss.backward() }
            try overlap.finish()
            let (v, lossAgain) = run()
            lossAgain.backward()
            try GradientAllReduce.sum([v], communicator: comm)
            return (w.tensor.grad!.scalars, v.tensor.grad!.scalars, overlap.redone)
        }
        XCTAssertEqual(results.map(\.2), [true, true], "rank 1's late gradient makes both ranks redo the sum")
        XCTAssertEqual(results[0].0, results[0].1)
        XCTAssertEqual(results[1].0, results[1].1)
    }

    func testTheBucketOrderIsRankZerosObservedOrderOnEveryRank() throws {
        let parameters = ["c", "a", "b", "d"].enumerated().map { NamedParameter(name: $1, tensor: Tensor.zeros([[1, 5, 2, 3][$0]])) }
        let orders = try ThreadRanks(size: 2).run { comm -> [[String]] in
            let order = try OverlappedGradientAllReduce.agreedOrder(comm.rank == 0 ? [0, 1, 2, 3] : [3, 2, 1, 0], count: 4, communicator: comm)
            return OverlappedGradientAllReduce(parameters, communicator: comm, bucketElements: 6, order: order).bucketNames
        }
        XCTAssertEqual(orders, [[["c", "a"], ["b", "d"]], [["c", "a"], ["b", "d"]]], "rank 0's order, buckets of up to 6 floats")
        let errors = try ThreadRanks(size: 2).run { comm -> String in
            do { _ = try OverlappedGradientAllReduce.agreedOrder([0, 0, 1], count: 3, communicator: comm); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(errors[1], "rank 1: rank 0's gradient bucket order is not a permutation of the 3 trainable parameters; do all ranks train the same parameters?")
    }
}
