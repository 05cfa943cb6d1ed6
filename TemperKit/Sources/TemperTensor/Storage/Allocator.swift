import Dispatch
import Foundation

/// A caching allocator for tensor buffers.
///
/// A training step allocates the same activation sizes every iteration; returning freed buffers to
/// per-size free lists means the second step onward does not call `malloc` for them. Buffers are
/// 64-byte aligned (a cache line, and the widest SIMD load) and rounded up to a size class so that
/// nearby sizes share a list. The cache is capped; past the cap buffers go back to the system.
public enum TensorAllocator {
    /// Alignment of every buffer, in bytes.
    public static let alignment = 64

    private static let lock = NSLock()
    nonisolated(unsafe) private static var freeLists: [Int: [UnsafeMutableRawPointer]] = [:]
    nonisolated(unsafe) private static var cachedBytes = 0
    nonisolated(unsafe) private static var liveBytes = 0
    nonisolated(unsafe) private static var peakLiveBytes = 0

    /// Most bytes kept in free lists before buffers are released to the system:
    /// `TEMPER_ALLOCATOR_CACHE_MB` if set, else 2 GiB.
    nonisolated(unsafe) public static var cacheLimitBytes: Int = {
        if let s = ProcessInfo.processInfo.environment["TEMPER_ALLOCATOR_CACHE_MB"], let mb = Int(s), mb >= 0 { return mb << 20 }
        return 2 << 30
    }()

    /// Rounds a request up to its size class: multiples of 64 bytes below 4 KiB, then 1/8 steps of
    /// the next power of two (at most 12.5 % waste).
    @inline(__always)
    static func sizeClass(_ bytes: Int) -> Int {
        let b = max(bytes, 64)
        if b <= 4096 { return (b + 63) & ~63 }
        let top = Int.bitWidth - (b - 1).leadingZeroBitCount   // ceil(log2 b)
        let step = 1 << (top - 4)
        return (b + step - 1) / step * step
    }

    /// Returns an uninitialised, 64-byte-aligned buffer of at least `bytes` bytes and its capacity.
    public static func allocate(bytes: Int) -> (UnsafeMutableRawPointer, Int) {
        if _slowPath(OpProfiler.isEnabled) {
            let start = DispatchTime.now().uptimeNanoseconds
            let (p, size, fresh) = take(bytes)
            OpProfiler.allocated(bytes: size, nanoseconds: DispatchTime.now().uptimeNanoseconds &- start, fresh: fresh)
            return (p, size)
        }
        let (p, size, _) = take(bytes)
        return (p, size)
    }

    /// `allocate`'s work; `fresh` when the buffer came from the system rather than a free list.
    @inline(__always)
    private static func take(_ bytes: Int) -> (UnsafeMutableRawPointer, Int, fresh: Bool) {
        let size = sizeClass(bytes)
        lock.lock()
        liveBytes += size
        if liveBytes > peakLiveBytes { peakLiveBytes = liveBytes }
        if var list = freeLists[size], let p = list.popLast() {
            freeLists[size] = list
            cachedBytes -= size
            lock.unlock()
            return (p, size, false)
        }
        lock.unlock()
        return (UnsafeMutableRawPointer.allocate(byteCount: size, alignment: alignment), size, true)
    }

    /// Gives a buffer from `allocate` back to the cache (or to the system, past the cap).
    public static func release(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
        if _slowPath(OpProfiler.isEnabled) {
            let start = DispatchTime.now().uptimeNanoseconds
            give(pointer, capacity: capacity)
            OpProfiler.released(nanoseconds: DispatchTime.now().uptimeNanoseconds &- start)
        } else {
            give(pointer, capacity: capacity)
        }
    }

    /// `release`'s work.
    @inline(__always)
    private static func give(_ pointer: UnsafeMutableRawPointer, capacity: Int) {
        lock.lock()
        liveBytes -= capacity
        if cachedBytes + capacity <= cacheLimitBytes {
            freeLists[capacity, default: []].append(pointer)
            cachedBytes += capacity
            lock.unlock()
        } else {
            lock.unlock()
            pointer.deallocate()
        }
    }

    /// Releases every cached buffer to the system.
    public static func trim() {
        lock.lock()
        let lists = freeLists
        freeLists = [:]
        cachedBytes = 0
        lock.unlock()
        for (_, list) in lists { for p in list { p.deallocate() } }
    }

    /// Bytes held by live tensors now, and the most held at once since the last `resetPeak()`.
    public static var statistics: (live: Int, peak: Int, cached: Int) {
        lock.lock(); defer { lock.unlock() }
        return (liveBytes, peakLiveBytes, cachedBytes)
    }

    /// Starts a new peak measurement from the current live size.
    public static func resetPeak() {
        lock.lock(); peakLiveBytes = liveBytes; lock.unlock()
    }
}

/// A reference-counted block of tensor memory. Views share one storage.
public final class TensorStorage: @unchecked Sendable {
    /// Start of the buffer (64-byte aligned).
    public let base: UnsafeMutableRawPointer
    /// Usable size in bytes.
    public let byteCount: Int
    private let capacity: Int
    private let owner: AnyObject?

    /// Allocates `byteCount` bytes from the caching allocator, zero-filled when `zeroed`.
    public init(byteCount: Int, zeroed: Bool = false) {
        let (p, cap) = TensorAllocator.allocate(bytes: byteCount)
        base = p
        capacity = cap
        self.byteCount = byteCount
        owner = nil
        if zeroed { memset(p, 0, byteCount) }
    }

    /// Wraps memory owned by someone else (a memory-mapped model file); `owner` is kept alive as
    /// long as this storage is, and the memory is never freed here.
    public init(borrowing pointer: UnsafeMutableRawPointer, byteCount: Int, owner: AnyObject) {
        base = pointer
        self.byteCount = byteCount
        capacity = 0
        self.owner = owner
    }

    deinit {
        if owner == nil { TensorAllocator.release(base, capacity: capacity) }
    }
}
