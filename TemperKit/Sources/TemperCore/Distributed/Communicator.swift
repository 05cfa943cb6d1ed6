import Foundation

/// The collective operations data-parallel training needs between the processes (ranks) of one
/// job: sums of gradients and counts, a broadcast, a barrier and the gathering of small records.
///
/// Every rank must call the same collectives in the same order; a rank that skips one leaves the
/// others waiting. Implementations: `SingleProcess` (the default: one rank, every operation the
/// identity), `MPICommunicator` (Open MPI, under `mpirun`) and, in tests, in-process ranks on threads.
public protocol Communicator: AnyObject {
    /// This process's rank, 0 ..< `worldSize`.
    var rank: Int { get }
    /// How many ranks the job has.
    var worldSize: Int { get }
    /// Replaces `buffer` on every rank by the element-wise sum of all ranks' buffers.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Replaces `buffer` on every rank by the element-wise sum of all ranks' buffers.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Starts replacing `buffer` on every rank by the element-wise sum of all ranks' buffers and
    /// returns at once where the implementation can (MPI's non-blocking all-reduce), so that the
    /// caller computes meanwhile; `buffer` must stay alive and untouched until `wait()` returns.
    /// Ranks must start their sums in the same order. The default sums before returning.
    func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> any PendingCollective
    /// `root`'s bytes, on every rank (the others' `bytes` are ignored).
    func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8]
    /// Returns once every rank has called it.
    func barrier() throws
    /// Every rank's bytes, in rank order, on every rank.
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]]
}

/// A collective that was started and may still be running (`Communicator.startAllReduceSum`).
public protocol PendingCollective: AnyObject {
    /// Whether it has finished; calling it now and then lets MPI move it along while the caller computes.
    func test() throws -> Bool
    /// Returns once it has finished.
    func wait() throws
}

/// A collective that finished before it was handed back.
public final class FinishedCollective: PendingCollective {
    /// Finished.
    public init() {}
    public func test() throws -> Bool { true }
    public func wait() throws {}
}

extension Communicator {
    /// Sums `buffer` before returning: for communicators without non-blocking collectives.
    public func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> any PendingCollective {
        try allReduceSum(buffer)
        return FinishedCollective()
    }

    /// Whether this rank is the one that writes files and prints progress (rank 0).
    public var isRoot: Bool { rank == 0 }

    /// The sum of `values` over all ranks, element-wise.
    public func allReduceSum(_ values: [Double]) throws -> [Double] {
        var out = values
        try out.withUnsafeMutableBufferPointer { try allReduceSum($0) }
        return out
    }

    /// The sum of `value` over all ranks.
    public func allReduceSum(_ value: Double) throws -> Double { try allReduceSum([value])[0] }

    /// Sums a contiguous float32 tensor in place over all ranks.
    public func allReduceSum(_ tensor: Tensor) throws {
        guard tensor.dtype == .float32, tensor.isContiguous else {
            throw TrainingError("all-reduce needs a contiguous float32 tensor; got \(tensor.dtype) \(tensor.shape)")
        }
        try withExtendedLifetime(tensor) { try allReduceSum(UnsafeMutableBufferPointer(start: tensor.floatPointer, count: tensor.count)) }
    }

    /// Every rank's `value` in rank order (JSON between the ranks: for small records, not tensors).
    public func allGather<T: Codable>(_ value: T) throws -> [T] {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try allGather(Array(try encoder.encode(value))).enumerated().map { r, bytes in
            do { return try decoder.decode(T.self, from: Data(bytes)) } catch {
                throw TrainingError("rank \(rank): the \(T.self) gathered from rank \(r) does not decode (\(error)); do all ranks run the same temper?")
            }
        }
    }

    /// Checks that every rank has rank 0's `settings` (those that must agree for the ranks to take
    /// the same steps: seed, batch, resume step): rank 0 broadcasts its own, each rank compares, and
    /// the differences are gathered, so every rank throws the same error naming the first rank and
    /// setting that differ.
    public func checkSameOnEveryRank(_ settings: [String: String]) throws {
        guard worldSize > 1 else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let sent = try broadcast(Array(try encoder.encode(settings)), root: 0)
        let root: [String: String]
        do { root = try JSONDecoder().decode([String: String].self, from: Data(sent)) } catch {
            throw TrainingError("rank \(rank): rank 0's settings do not decode (\(error)); do all ranks run the same temper?")
        }
        let differences = Set(settings.keys).union(root.keys).sorted().filter { settings[$0] != root[$0] }
            .map { "\($0) is \(settings[$0] ?? "unset") there, \(root[$0] ?? "unset") on rank 0" }
        let verdicts = try allGather(differences)
        if let (r, what) = verdicts.enumerated().first(where: { !$0.element.isEmpty }).map({ ($0.offset, $0.element) }) {
            throw TrainingError("rank \(r) does not run what rank 0 runs: \(what.joined(separator: "; ")); every rank must start with the same command, files and checkpoint")
        }
    }

    /// The contiguous share of `count` items (prompts, micro-batches) that this rank handles: the
    /// items split into `worldSize` runs in order, the first `count % worldSize` runs one longer.
    public func share(of count: Int) -> Range<Int> { RankShares.range(of: count, rank: rank, worldSize: worldSize) }
}

/// How items are split among ranks: in order, in contiguous runs, so that the concatenation of the
/// ranks' shares is the single-process order.
public enum RankShares {
    /// Rank `rank`'s contiguous share of `count` items among `worldSize` ranks, the first
    /// `count % worldSize` ranks one item more.
    public static func range(of count: Int, rank: Int, worldSize: Int) -> Range<Int> {
        let base = count / worldSize, extra = count % worldSize
        let lo = rank * base + min(rank, extra)
        return lo..<(lo + base + (rank < extra ? 1 : 0))
    }
}

/// One process alone: rank 0 of 1, every collective the identity. The default communicator.
public final class SingleProcess: Communicator {
    /// One rank.
    public init() {}
    public var rank: Int { 0 }
    public var worldSize: Int { 1 }
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    public func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] { bytes }
    public func barrier() throws {}
    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] { [bytes] }
}
