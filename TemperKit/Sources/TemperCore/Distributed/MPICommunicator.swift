import Foundation

/// Ranks of an Open MPI job: the collectives of `libTemperMPI.so` (the TemperMPI package, built by
/// scripts/build-mpi.sh), bound with dlopen/dlsym so that TemperKit itself never links libmpi and
/// runs unchanged where Open MPI is not installed.
///
/// A collective that fails (a peer died: MPI_ERRORS_RETURN is set) throws an error naming this rank
/// and the operation; `abort` then ends the whole job.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let worldSize: Int
    /// The library file in use.
    public let library: String

    private typealias InitFn = @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Int32
    private typealias ReduceFloatFn = @convention(c) (UnsafeMutablePointer<Float>?, Int32) -> Int32
    private typealias ReduceDoubleFn = @convention(c) (UnsafeMutablePointer<Double>?, Int32) -> Int32
    private typealias StartReduceFloatFn = @convention(c) (UnsafeMutablePointer<Float>?, Int32, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
    fileprivate typealias TestFn = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<Int32>?) -> Int32
    fileprivate typealias WaitFn = @convention(c) (UnsafeMutableRawPointer?) -> Int32
    private typealias BroadcastFn = @convention(c) (UnsafeMutableRawPointer?, Int32, Int32) -> Int32
    private typealias BarrierFn = @convention(c) () -> Int32
    private typealias GatherInt64Fn = @convention(c) (Int64, UnsafeMutablePointer<Int64>?) -> Int32
    private typealias GatherBytesFn = @convention(c) (UnsafeRawPointer?, Int32, UnsafeMutableRawPointer?, UnsafePointer<Int32>?, UnsafePointer<Int32>?) -> Int32
    private typealias ErrorStringFn = @convention(c) (Int32, UnsafeMutablePointer<CChar>?, Int32) -> Void
    private typealias AbortFn = @convention(c) (Int32) -> Void
    private typealias VersionFn = @convention(c) () -> Int32

    private let reduceFloat: ReduceFloatFn
    private let reduceDouble: ReduceDoubleFn
    private let startReduceFloat: StartReduceFloatFn
    fileprivate let testFn: TestFn
    fileprivate let waitFn: WaitFn
    private let broadcastFn: BroadcastFn
    private let barrierFn: BarrierFn
    private let gatherInt64: GatherInt64Fn
    private let gatherBytes: GatherBytesFn
    private let errorString: ErrorStringFn
    private let abortFn: AbortFn

    /// The ABI version of include/TemperMPI.h this host binds.
    public static let abiVersion: Int32 = 2
    /// Environment variable naming the library file explicitly.
    public static let libraryVariable = "TEMPER_MPI_LIBRARY"
    /// The library's file name.
    public static let libraryName = "libTemperMPI.so"
    /// Environment variable capping the bytes one MPI call moves per rank (tests set it small to
    /// run the chunked paths; MPI counts are 32-bit, so the cap is at most `Int32.max`).
    public static let maxMessageVariable = "TEMPER_MPI_MAX_MESSAGE_BYTES"
    /// The most bytes one MPI call moves per rank: larger buffers, broadcasts and gathers go in pieces.
    public let maxMessageBytes: Int

    /// Loads `path` and initializes MPI (MPI_Init), once per process. `maxMessageBytes` (at most
    /// `Int32.max`) caps what one MPI call moves per rank.
    public init(libraryPath path: String, maxMessageBytes: Int = Int(Int32.max)) throws {
        guard (16...Int(Int32.max)).contains(maxMessageBytes) else {
            throw TrainingError("\(Self.maxMessageVariable) must be between 16 and \(Int32.max) bytes; got \(maxMessageBytes)")
        }
        self.maxMessageBytes = maxMessageBytes
        // RTLD_GLOBAL: Open MPI's own components, loaded by libmpi later, resolve libmpi's symbols.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw TrainingError("cannot load the MPI library \(path): \(why) (is Open MPI installed? apt-get install openmpi-bin libopenmpi-dev)")
        }
        func symbol<T>(_ name: String, _: T.Type) throws -> T {
            guard let s = dlsym(handle, name) else { throw TrainingError("\(path) has no symbol \(name): not a TemperMPI library, or another version") }
            return unsafeBitCast(s, to: T.self)
        }
        let version = try symbol("temper_mpi_abi_version", VersionFn.self)()
        guard version == Self.abiVersion else {
            throw TrainingError("\(path) has TemperMPI ABI version \(version), this temper needs \(Self.abiVersion): rebuild it with scripts/build-mpi.sh")
        }
        reduceFloat = try symbol("temper_mpi_allreduce_float", ReduceFloatFn.self)
        reduceDouble = try symbol("temper_mpi_allreduce_double", ReduceDoubleFn.self)
        startReduceFloat = try symbol("temper_mpi_iallreduce_float", StartReduceFloatFn.self)
        testFn = try symbol("temper_mpi_test", TestFn.self)
        waitFn = try symbol("temper_mpi_wait", WaitFn.self)
        broadcastFn = try symbol("temper_mpi_broadcast", BroadcastFn.self)
        barrierFn = try symbol("temper_mpi_barrier", BarrierFn.self)
        gatherInt64 = try symbol("temper_mpi_allgather_int64", GatherInt64Fn.self)
        gatherBytes = try symbol("temper_mpi_allgatherv_bytes", GatherBytesFn.self)
        errorString = try symbol("temper_mpi_error_string", ErrorStringFn.self)
        abortFn = try symbol("temper_mpi_abort", AbortFn.self)
        var r: Int32 = 0, n: Int32 = 0
        let rc = try symbol("temper_mpi_init", InitFn.self)(&r, &n)
        library = path
        rank = Int(r)
        worldSize = Int(n)
        try check(rc, "MPI_Init")
    }

    /// Whether this process was started by `mpirun` / `mpiexec` (Open MPI or PMIx set these).
    public static func launchedByMPI(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    /// Where the library is looked for: `$TEMPER_MPI_LIBRARY`, then next to the executable.
    public static func candidatePaths(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var paths: [String] = []
        if let explicit = environment[libraryVariable], !explicit.isEmpty { paths.append(explicit) }
        if let exe = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            paths.append(exe.deletingLastPathComponent().appendingPathComponent(libraryName).path)
        }
        return paths
    }

    /// The communicator of this process: MPI's when launched by `mpirun`, else `SingleProcess`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> any Communicator {
        guard launchedByMPI(environment) else { return SingleProcess() }
        let paths = candidatePaths(environment)
        guard let found = paths.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw TrainingError("running under mpirun, but \(libraryName) is not in \(paths.joined(separator: " or ")): " +
                                "build it with scripts/build-mpi.sh (needs libopenmpi-dev) or set \(libraryVariable)")
        }
        var cap = Int(Int32.max)
        if let text = environment[maxMessageVariable] {
            guard let value = Int(text) else { throw TrainingError("\(maxMessageVariable) must be a number of bytes; got '\(text)'") }
            cap = value
        }
        return try MPICommunicator(libraryPath: found, maxMessageBytes: cap)
    }

    fileprivate func check(_ code: Int32, _ operation: String) throws {
        guard code != 0 else { return }
        var text = [CChar](repeating: 0, count: 512)
        errorString(code, &text, Int32(text.count))
        throw TrainingError("rank \(rank) of \(worldSize): \(operation) failed: \(String(cString: text)) (a peer rank may have died)")
    }

    /// `count` items of `stride` bytes as the (offset, count) pieces one MPI call each moves.
    private func pieces(_ count: Int, stride: Int) -> [(offset: Int, count: Int)] {
        let per = max(1, maxMessageBytes / stride)
        return Swift.stride(from: 0, to: count, by: per).map { ($0, min(per, count - $0)) }
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        for (lo, n) in pieces(buffer.count, stride: 4) { try check(reduceFloat(buffer.baseAddress! + lo, Int32(n)), "MPI_Allreduce") }
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        for (lo, n) in pieces(buffer.count, stride: 8) { try check(reduceDouble(buffer.baseAddress! + lo, Int32(n)), "MPI_Allreduce") }
    }

    public func startAllReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> any PendingCollective {
        let parts = pieces(buffer.count, stride: 4)
        return try PendingPieces(count: parts.count) { k in
            var request: UnsafeMutableRawPointer? = nil
            try check(startReduceFloat(buffer.baseAddress! + parts[k].offset, Int32(parts[k].count), &request),
                      parts.count == 1 ? "MPI_Iallreduce" : "MPI_Iallreduce (piece \(k + 1) of \(parts.count))")
            return MPIRequest(owner: self, request: request)
        }
    }

    public func broadcast(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        var count = [Int64(bytes.count)]
        try count.withUnsafeMutableBytes { try check(broadcastFn($0.baseAddress, 8, Int32(root)), "MPI_Bcast") }
        var out = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        try out.withUnsafeMutableBytes { buffer in
            for (lo, n) in pieces(buffer.count, stride: 1) { try check(broadcastFn(buffer.baseAddress! + lo, Int32(n), Int32(root)), "MPI_Bcast") }
        }
        return out
    }

    public func barrier() throws { try check(barrierFn(), "MPI_Barrier") }

    public func allGather(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var counts = [Int64](repeating: 0, count: worldSize)
        try check(gatherInt64(Int64(bytes.count), &counts), "MPI_Allgather")
        // In rounds of at most maxMessageBytes / ranks bytes from each rank, so that every count
        // and offset of one MPI_Allgatherv fits its 32-bit int.
        let piece = max(1, maxMessageBytes / worldSize)
        let rounds = counts.map { (Int($0) + piece - 1) / piece }.max() ?? 0
        var out = counts.map { n -> [UInt8] in var a = [UInt8](); a.reserveCapacity(Int(n)); return a }
        for round in 0..<rounds {
            let sizes = counts.map { Int32(max(0, min(piece, Int($0) - round * piece))) }
            var offsets = [Int32](repeating: 0, count: worldSize)
            for r in 1..<max(1, worldSize) { offsets[r] = offsets[r - 1] + sizes[r - 1] }
            var received = [UInt8](repeating: 0, count: sizes.reduce(0) { $0 + Int($1) })
            let lo = min(bytes.count, round * piece), hi = min(bytes.count, lo + piece)
            try bytes[lo..<hi].withUnsafeBytes { send in
                try received.withUnsafeMutableBytes { recv in
                    try check(gatherBytes(send.baseAddress, Int32(hi - lo), recv.baseAddress, sizes, offsets), "MPI_Allgatherv")
                }
            }
            for r in 0..<worldSize { out[r] += received[Int(offsets[r])..<Int(offsets[r] + sizes[r])] }
        }
        return out
    }

    /// Ends every rank of the job with exit code `code` (MPI_Abort); does not return.
    public func abort(code: Int32) -> Never {
        abortFn(code)
        exit(code)
    }
}

/// One piece's MPI request; the library frees it when it finishes.
private final class MPIRequest: PendingCollective {
    let owner: MPICommunicator
    /// nil once finished (or when MPI handed back none: nothing to wait for).
    private var request: UnsafeMutableRawPointer?

    init(owner: MPICommunicator, request: UnsafeMutableRawPointer?) {
        self.owner = owner
        self.request = request
    }

    func test() throws -> Bool {
        guard let request else { return true }
        var done: Int32 = 0
        let code = owner.testFn(request, &done)
        if done != 0 { self.request = nil }
        try owner.check(code, "MPI_Test")
        return done != 0
    }

    func wait() throws {
        guard let request else { return }
        self.request = nil
        try owner.check(owner.waitFn(request), "MPI_Wait")
    }
}
