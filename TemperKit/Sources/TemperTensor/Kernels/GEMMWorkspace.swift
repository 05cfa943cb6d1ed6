import Foundation

/// Scratch memory for one GEMM worker: packed A and B blocks, an edge tile and a vector buffer.
///
/// Packing needs several MiB per thread; allocating it on every call would put `malloc` (and page
/// faults) on the path of every matmul, so workspaces are kept in a small pool and reused. A worker
/// borrows one for the whole of its share of a call and then returns it, so the pool never holds
/// more workspaces than there were concurrent workers. All buffers are 64-byte aligned.
final class GEMMWorkspace {
    /// Room for one packed `mc × kc` block of A.
    let packedA: UnsafeMutablePointer<Float>
    /// Room for one packed `kc × nc` block of B.
    let packedB: UnsafeMutablePointer<Float>
    /// One AVX2 register tile, for tiles cut by the edge of C.
    let tile: UnsafeMutablePointer<Float>
    private var vectorBuffer: UnsafeMutablePointer<Float>?
    private var vectorCapacity = 0

    private init() {
        // Large enough for the blocks of every kernel.
        let aCount = GEMMKernel.allCases.map { ($0.mc + $0.mr - 1) / $0.mr * $0.mr }.max()! * GEMM.kcLarge
        let bCount = GEMMKernel.allCases.map { (GEMM.nc + $0.nr - 1) / $0.nr * $0.nr }.max()! * GEMM.kcLarge
        packedA = GEMMWorkspace.allocate(aCount + GEMMMicrokernel.nr)  // slack for packA's overlapping stores
        packedB = GEMMWorkspace.allocate(bCount)
        tile = GEMMWorkspace.allocate(GEMMMicrokernel.mr * GEMMMicrokernel.nr)
    }

    deinit {
        packedA.deallocate()
        packedB.deallocate()
        tile.deallocate()
        vectorBuffer?.deallocate()
    }

    /// A buffer of at least `count` floats, grown (rarely) when a longer vector comes along.
    func vector(_ count: Int) -> UnsafeMutablePointer<Float> {
        if let v = vectorBuffer, vectorCapacity >= count { return v }
        vectorBuffer?.deallocate()
        vectorCapacity = max(count, 2 * vectorCapacity)
        let v = GEMMWorkspace.allocate(vectorCapacity)
        vectorBuffer = v
        return v
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(count, 16))
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var idle: [GEMMWorkspace] = []

    /// Runs `body` with a workspace that no other thread uses meanwhile.
    static func with<R>(_ body: (GEMMWorkspace) -> R) -> R {
        lock.lock()
        let reused = idle.popLast()
        lock.unlock()
        let ws = reused ?? GEMMWorkspace()
        defer {
            lock.lock()
            idle.append(ws)
            lock.unlock()
        }
        return body(ws)
    }
}
