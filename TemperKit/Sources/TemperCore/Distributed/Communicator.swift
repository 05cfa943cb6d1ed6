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
    /// `root`'s bytes, on every rank (the others' `bytes` are ignored).
    func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8]
    /// Returns once every rank has called it.
    func barrier() throws
    /// Every rank's bytes, in rank order, on every rank.
    func allGather(_ bytes: [UInt8]) throws -> [[UInt8]]
}

extension Communicator {
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
