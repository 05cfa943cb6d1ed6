import Foundation

/// One non-blocking sum started as several consecutive pieces (one MPI_Iallreduce each: MPI's
/// counts are 32-bit, so a large buffer goes in pieces), finished when all of them are.
///
/// Every piece writes into the caller's buffer until it finishes, so this never gives up on a
/// piece it started: a piece that fails to start makes the ones started before it be waited for
/// before the error reaches the caller (who frees the buffer on seeing it), and `wait()` waits for
/// every piece even after one of them failed.
final class PendingPieces: PendingCollective {
    /// The started pieces, oldest first.
    private(set) var pieces: [any PendingCollective] = []

    /// Starts pieces `0 ..< count` in order with `start`. When piece k fails to start, waits for
    /// pieces `0 ..< k` and rethrows piece k's error (a failure of theirs adds nothing to it).
    init(count: Int, start: (Int) throws -> any PendingCollective) throws {
        pieces.reserveCapacity(count)
        for k in 0..<count {
            do {
                pieces.append(try start(k))
            } catch {
                for piece in pieces { try? piece.wait() }
                pieces = []
                throw error
            }
        }
    }

    /// Whether every piece has finished; tests the oldest unfinished one first, as MPI moves
    /// a request along only when it is tested or waited for.
    func test() throws -> Bool {
        while let first = pieces.first {
            guard try first.test() else { return false }
            pieces.removeFirst()
        }
        return true
    }

    /// Waits for every piece, oldest first, then throws the first failure among them.
    func wait() throws {
        var failure: Error?
        for piece in pieces {
            do { try piece.wait() } catch { if failure == nil { failure = error } }
        }
        pieces = []
        if let failure { throw failure }
    }
}
