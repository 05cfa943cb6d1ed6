import Foundation
@testable import TemperCore
import XCTest

/// What happens to a gradient sum when a collective fails on the way (a peer died): every piece
/// already started is waited for before the error reaches the code that frees the buffer, and the
/// error names the rank and the bucket. Driven through a communicator whose pieces are scripted,
/// as `MPICommunicator` starts one MPI_Iallreduce per piece.
final class CollectiveFailureTests: XCTestCase {
    /// The order pieces were started and waited for, shared by a test's pieces.
    final class Log {
        var events: [String] = []
    }

    /// One scripted piece: never finishes by itself (as MPI moves nothing between calls); `wait`
    /// logs and throws `waitFailure` when set.
    final class ScriptedPiece: PendingCollective {
        let name: String
        let log: Log
        let waitFailure: String?
        init(_ name: String, log: Log, waitFailure: String? = nil) {
            self.name = name
            self.log = log
            self.waitFailure = waitFailure
        }
        func test() throws -> Bool { false }
        func wait() throws {
            log.events.append("wait \(name)")
            if let waitFailure { throw TrainingError(waitFailure) }
        }
    }

    /// Rank 1 of 2 whose non-blocking sums go in pieces of `pieceFloats` floats, as
    /// `MPICommunicator`'s do; piece `failStart` (bucket, piece; from 1) fails to start and piece
    /// `failWait` fails when waited for. Blocking collectives are identities.
    final class PieceCommunicator: Communicator {
        let rank = 1, worldSize = 2
        let pieceFloats: Int
        let failStart: (Int, Int)?
        let failWait: (Int, Int)?
        let log = Log()
        private var sums = 0
        init(pieceFloats: Int, failStart: (Int, Int)? = nil, failWait: (Int, Int)? = nil) {
            self.pieceFloats = pieceFloats
            self.failStart = failStart
            self.failWait = failWait
        }
        func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> any PendingCollective {
            sums += 1
            let sum = sums, count = (buffer.count + pieceFloats - 1) / pieceFloats
            return try PendingPieces(count: count) { k in
                let name = "\(sum).\(k + 1)"
                if let failStart, failStart == (sum, k + 1) {
                    throw TrainingError("rank 1 of 2: MPI_Iallreduce (piece \(k + 1) of \(count)) failed: peer gone")
                }
                self.log.events.append("start \(name)")
                let fails = failWait.map { $0 == (sum, k + 1) } ?? false
                return ScriptedPiece(name, log: self.log, waitFailure: fails ? "rank 1 of 2: MPI_Wait failed: peer gone" : nil)
            }
        }
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
        func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
        func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] { bytes }
        func barrier() throws {}
        func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes, bytes] }
    }

    func testAPieceThatFailsToStartWaitsForThoseStartedBeforeItAndNoneAfterIt() {
        let log = Log()
        XCTAssertThrowsError(try PendingPieces(count: 4) { k -> any PendingCollective in
            if k == 2 { throw TrainingError("rank 1 of 2: MPI_Iallreduce (piece 3 of 4) failed: peer gone") }
            log.events.append("start \(k + 1)")
            return ScriptedPiece("\(k + 1)", log: log)
        }) { error in
            XCTAssertEqual("\(error)", "rank 1 of 2: MPI_Iallreduce (piece 3 of 4) failed: peer gone")
        }
        XCTAssertEqual(log.events, ["start 1", "start 2", "wait 1", "wait 2"], "pieces 1 and 2 write into the buffer until waited for")
    }

    func testWaitWaitsForEveryPieceThenThrowsTheFirstFailure() throws {
        let log = Log()
        let pending = try PendingPieces(count: 3) { k -> any PendingCollective in
            ScriptedPiece("\(k + 1)", log: log, waitFailure: k >= 1 ? "piece \(k + 1) failed" : nil)
        }
        XCTAssertFalse(try pending.test())
        XCTAssertThrowsError(try pending.wait()) { XCTAssertEqual("\($0)", "piece 2 failed") }
        XCTAssertEqual(log.events, ["wait 1", "wait 2", "wait 3"])
        XCTAssertTrue(try pending.test(), "nothing left to wait for")
    }

    /// Parameters a, b, c of 3 floats each: buckets of 3 floats leave as [c], [b], [a], each sent
    /// with its presence flag as 4 floats, in two pieces of 2.
    private func threeParameters() -> (parameters: [NamedParameter], loss: Tensor) {
        let parameters = ["a", "b", "c"].enumerated().map { k, name -> NamedParameter in
            let t = Tensor(shape: [3], scalars: [0.5, -0.25, Float(k)])
            t.requiresGrad = true
            return NamedParameter(name: name, tensor: t)
        }
        let x = Tensor(shape: [3], scalars: [1, 2, 3])
        let terms = parameters.map { ($0.tensor * x).sum() }
        return (parameters, terms.dropFirst().reduce(terms[0], +))
    }

    func testAPieceFailingMidBucketNamesRankAndBucketAfterTheStartedPieceWasWaitedFor() {
        let (parameters, loss) = threeParameters()
        let comm = PieceCommunicator(pieceFloats: 2, failStart: (2, 2))
        let overlap = OverlappedGradientAllReduce(parameters, communicator: comm, bucketElements: 3)
        XCTAssertEqual(overlap.bucketNames, [["c"], ["b"], ["a"]])
        XCTAssertThrowsError(try overlap.backward { loss.backward() }) { error in
            XCTAssertEqual("\(error)", "rank 1 of 2: the gradient sum of bucket 2 of 3 (b) failed: " +
                           "rank 1 of 2: MPI_Iallreduce (piece 2 of 2) failed: peer gone")
        }
        // Bucket 2's first piece was waited for before the error left the communicator (the
        // buffer it writes into is freed once the error is seen); bucket 1's sum is still running,
        // and bucket 3 never started.
        XCTAssertEqual(comm.log.events, ["start 1.1", "start 1.2", "start 2.1", "wait 2.1"])
    }

    func testASumFailingWhenWaitedForNamesRankAndBucket() throws {
        let parameters = ["w0", "w1", "w2", "w3"].map { name -> NamedParameter in
            let t = Tensor(shape: [1], scalars: [1.5])
            t.requiresGrad = true
            return NamedParameter(name: name, tensor: t)
        }
        let terms = parameters.map { ($0.tensor * $0.tensor).sum() }
        let loss = terms.dropFirst().reduce(terms[0], +)
        // Buckets of 3 floats: [w3, w2, w1] (6 floats with their flags: pieces of 2, 2 and 2) and [w0].
        let comm = PieceCommunicator(pieceFloats: 2, failWait: (1, 2))
        let overlap = OverlappedGradientAllReduce(parameters, communicator: comm, bucketElements: 3)
        try overlap.backward { loss.backward() }
        XCTAssertThrowsError(try overlap.finish()) { error in
            XCTAssertEqual("\(error)", "rank 1 of 2: the gradient sum of bucket 1 of 2 (w3 … w1, 3 parameters) failed: " +
                           "rank 1 of 2: MPI_Wait failed: peer gone")
        }
        XCTAssertEqual(comm.log.events, ["start 1.1", "start 1.2", "start 1.3", "start 2.1", "wait 1.1", "wait 1.2", "wait 1.3"],
                       "every piece of the failed bucket was waited for")
    }
}
