import Foundation

/// The gradient sum over the ranks of `GradientAllReduce`, started during a rank's last backward
/// of the step: buckets of whole parameters, each launched as a non-blocking all-reduce as soon as
/// every parameter in it has received its gradient, while backward computes the earlier layers'
/// (PyTorch DDP's bucketed overlap). Use: `backward { ... }` around the last backward, then
/// `finish()`; earlier micro-batches of the step accumulate as usual.
///
/// Buckets follow `order`: by default reverse parameter order (the last layers, whose gradients
/// backward finishes first); parameter lists that are not in layer order (decay / no-decay groups)
/// do better with the order backward actually reached them, `observedOrder`, agreed on by all
/// ranks with `agreedOrder` (rank 0's, as DDP rebuilds its buckets after the first iteration).
///
/// The sums are the same element-wise additions as `GradientAllReduce.sum`'s (only when they run
/// changes), so a run stays bit-identical to one process on the same global batch. Every rank
/// launches the same buckets in the same order: a parameter this rank's backward did not reach is
/// sent by `finish()` (zeros where it has no gradient). Each bucket also sums a presence flag per
/// parameter, so a parameter no rank has a gradient for keeps none, as in one process.
///
/// A parameter is taken to be final when backward first adds into it; one that backward adds into
/// again after its bucket left (a leaf used in several checkpointed segments) is noticed, and then
/// every rank redoes the whole sum with `GradientAllReduce.sum` from its local gradients, which the
/// buckets left untouched. `redone` says so.
public final class OverlappedGradientAllReduce {
    /// Floats per bucket (the last bucket, and one holding a larger parameter alone, differ):
    /// 1 Mi floats, small enough that the first bucket leaves early in the backward of a
    /// 135M-parameter model's adapters, large enough for full bandwidth (scaling.md).
    public static let defaultBucketElements = 1 << 20

    private struct Bucket {
        var members: [Int]
        var floats: Int
        var seen = 0
        var buffer: UnsafeMutableBufferPointer<Float>? = nil
        var pending: (any PendingCollective)? = nil
    }

    private let parameters: [NamedParameter]
    private let communicator: any Communicator
    private var buckets: [Bucket] = []
    /// For each parameter: its bucket; whether backward reached it.
    private var bucketOf: [Int]
    private var seen: [Bool]
    private var index: [ObjectIdentifier: Int] = [:]
    private var launched = 0
    /// Parameter indices in the order backward first reached them.
    private var reached: [Int] = []
    private var late = false
    /// Whether `finish` had to redo the sum (a gradient changed after its bucket left).
    public private(set) var redone = false

    /// A sum of `parameters`' gradients over `communicator`'s ranks, in buckets of about
    /// `bucketElements` floats that leave in `order` (parameter indices, a permutation of
    /// `parameters.indices`: `agreedOrder`'s; nil: reverse order).
    public init(_ parameters: [NamedParameter], communicator: any Communicator, bucketElements: Int = defaultBucketElements, order: [Int]? = nil) {
        precondition(order.map { $0.sorted() == Array(parameters.indices) } ?? true, "the bucket order must be a permutation of the parameters' indices")
        self.parameters = parameters
        self.communicator = communicator
        bucketOf = Array(repeating: 0, count: parameters.count)
        seen = Array(repeating: false, count: parameters.count)
        for (i, p) in parameters.enumerated() { index[ObjectIdentifier(p.tensor)] = i }
        for i in order ?? parameters.indices.reversed() {
            let n = parameters[i].tensor.count
            if buckets.isEmpty || buckets[buckets.count - 1].floats + n > max(1, bucketElements) && !buckets[buckets.count - 1].members.isEmpty {
                buckets.append(Bucket(members: [], floats: 0))
            }
            buckets[buckets.count - 1].members.append(i)
            buckets[buckets.count - 1].floats += n
            bucketOf[i] = buckets.count - 1
        }
    }

    deinit {
        // A bucket whose sum was never waited for (an error on the way) is still MPI's to write.
        for b in buckets where b.pending == nil { b.buffer?.deallocate() }
    }

    /// Runs `body` (this rank's last backward of the step), launching each bucket once backward
    /// has reached all its parameters and every bucket before it has left.
    public func backward<R>(_ body: () throws -> R) throws -> R {
        var failure: Error?
        let result = try GradientReadyHook.withObserver({ [unowned self] leaf in
            guard failure == nil, let i = self.index[ObjectIdentifier(leaf)] else { return }
            do { try self.gradientReady(i) } catch { failure = error }
        }, body)
        if let failure { throw failure }
        return result
    }

    /// The parameters in the order backward first reached them, then those it did not reach in
    /// this instance's order: the bucket order for the next steps.
    public var observedOrder: [Int] {
        reached + buckets.flatMap(\.members).filter { !seen[$0] }
    }

    /// The bucket order of the names of the parameters in each bucket (for tests and messages).
    public var bucketNames: [[String]] { buckets.map { $0.members.map { parameters[$0].name } } }

    /// Rank 0's `observed` order on every rank (broadcast), so that all ranks lay out the same
    /// buckets; an order that is not a permutation of `0 ..< count` is an error.
    public static func agreedOrder(_ observed: [Int], count: Int, communicator: any Communicator) throws -> [Int] {
        let sent = try communicator.broadcast(Array(try JSONEncoder().encode(observed)), root: 0)
        guard let order = try? JSONDecoder().decode([Int].self, from: Data(sent)), order.sorted() == Array(0..<count) else {
            throw TrainingError("rank \(communicator.rank): rank 0's gradient bucket order is not a permutation of the \(count) trainable parameters; do all ranks train the same parameters?")
        }
        return order
    }

    /// Launches the buckets not yet launched, waits for all, and puts the sums into the gradients.
    public func finish() throws {
        while launched < buckets.count { try launch() }
        for k in buckets.indices {
            do { try buckets[k].pending?.wait() } catch { throw failure(ofBucket: k, error) }
        }
        // Every rank learns whether any rank saw a gradient change after its bucket left.
        redone = try communicator.allReduceSum(late ? 1.0 : 0.0) > 0
        if redone { try GradientAllReduce.sum(parameters, communicator: communicator) }
        for k in buckets.indices {
            guard let buffer = buckets[k].buffer else { continue }
            if !redone { copyBack(buckets[k], from: buffer) }
            buffer.deallocate()
            buckets[k].buffer = nil
            buckets[k].pending = nil
        }
    }

    /// Puts a finished bucket's sums into its parameters' gradients; a parameter no rank had a
    /// gradient for (presence flags summed to 0) keeps none.
    private func copyBack(_ bucket: Bucket, from buffer: UnsafeMutableBufferPointer<Float>) {
        var at = 0
        for (slot, i) in bucket.members.enumerated() {
            let p = parameters[i].tensor, n = p.count
            if buffer[bucket.floats + slot] > 0 {
                let grad = p.grad.map { $0.isContiguous ? $0 : $0.copy() } ?? Tensor.zeros(p.shape)
                grad.floatPointer.update(from: buffer.baseAddress! + at, count: n)
                p.grad = grad
            } else {
                p.grad = nil
            }
            at += n
        }
    }

    private func gradientReady(_ i: Int) throws {
        if seen[i] {
            if bucketOf[i] < launched { late = true }
            return
        }
        seen[i] = true
        reached.append(i)
        buckets[bucketOf[i]].seen += 1
        while launched < buckets.count, buckets[launched].seen == buckets[launched].members.count { try launch() }
        // Lets MPI move the oldest unfinished sum along while backward computes.
        if let oldest = buckets[..<launched].firstIndex(where: { $0.pending != nil }) {
            do { _ = try buckets[oldest].pending?.test() } catch { throw failure(ofBucket: oldest, error) }
        }
    }

    /// Copies bucket `launched`'s gradients (zeros where none) and presence flags into its buffer
    /// and starts their sum.
    private func launch() throws {
        let k = launched
        let members = buckets[k].members, floats = buckets[k].floats
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: floats + members.count)
        buffer.initialize(repeating: 0)
        var at = 0
        for (slot, i) in members.enumerated() {
            let p = parameters[i].tensor
            if let g = p.grad {
                let c = g.isContiguous ? g : g.copy()
                withExtendedLifetime(c) { (buffer.baseAddress! + at).update(from: c.floatPointer, count: p.count) }
                buffer[floats + slot] = 1
            }
            at += p.count
        }
        buckets[k].buffer = buffer
        launched += 1
        // A communicator whose start fails has let the parts it started finish (PendingPieces):
        // with `pending` nil the buffer is free to go.
        do { buckets[k].pending = try communicator.startAllReduceSum(buffer) } catch { throw failure(ofBucket: k, error) }
    }

    /// `error` of bucket `k`'s sum, naming this rank and the bucket: which parameters' gradients
    /// were on the way when a peer went missing.
    private func failure(ofBucket k: Int, _ error: Error) -> TrainingError {
        let names = buckets[k].members.map { parameters[$0].name }
        let shown = names.count <= 2 ? names.joined(separator: ", ") : "\(names[0]) … \(names[names.count - 1]), \(names.count) parameters"
        return TrainingError("rank \(communicator.rank) of \(communicator.worldSize): the gradient sum of bucket \(k + 1) of \(buckets.count) " +
                             "(\(shown)) failed: \(error)")
    }
}
