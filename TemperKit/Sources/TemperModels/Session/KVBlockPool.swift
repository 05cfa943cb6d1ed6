/// Keys and values in fixed-size blocks of positions, shared between sequences by reference count
/// (paged attention's storage, as in vLLM): a forked sequence holds the same blocks as its parent,
/// so a shared prefix is stored once, and only a block that both would write is copied
/// (copy-on-write).
///
/// A block holds `blockSize` positions of every layer's keys and values
/// (`[layers][key|value][kvHeads][blockSize][headDim]` floats, one allocation).
public final class KVBlockPool {
    /// Positions per block.
    public let blockSize: Int
    let layers: Int, kvHeads: Int, headDim: Int
    private var storage: [UnsafeMutablePointer<Float>] = []
    private var references: [Int] = []
    private var free: [Int] = []
    /// Block copies made by copy-on-write so far.
    public private(set) var copies = 0

    /// An empty pool for `config`'s layers.
    public init(config: ModelConfig, blockSize: Int = 16) {
        self.blockSize = blockSize
        layers = config.numHiddenLayers
        kvHeads = config.numKeyValueHeads
        headDim = config.headDim
    }

    deinit { for p in storage { p.deallocate() } }

    /// Floats per block.
    var blockFloats: Int { layers * 2 * kvHeads * blockSize * headDim }

    /// Blocks some sequence holds.
    public var blocksInUse: Int { references.count - free.count }

    /// A fresh block with one reference.
    func allocate() -> Int {
        if let b = free.popLast() { references[b] = 1; return b }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: blockFloats)
        p.initialize(repeating: 0, count: blockFloats)
        storage.append(p)
        references.append(1)
        return storage.count - 1
    }

    /// One more holder of `block`.
    func retain(_ block: Int) { references[block] += 1 }

    /// One holder fewer; the block is reused once none is left.
    func release(_ block: Int) {
        references[block] -= 1
        if references[block] == 0 { free.append(block) }
    }

    /// Whether more than one sequence holds `block`.
    func isShared(_ block: Int) -> Bool { references[block] > 1 }

    /// A private copy of `block`'s first `positions` positions for a holder about to write into it;
    /// the caller's reference moves from `block` to the copy.
    func copyOnWrite(_ block: Int, positions: Int) -> Int {
        let copy = allocate()
        let src = storage[block], dst = storage[copy]
        for slab in 0..<(layers * 2 * kvHeads) {
            let offset = slab * blockSize * headDim
            (dst + offset).update(from: src + offset, count: positions * headDim)
        }
        release(block)
        copies += 1
        return copy
    }

    /// Where position `slot` of head `head` of layer `layer`'s keys (`value: false`) or values
    /// starts in `block`.
    @inline(__always)
    func pointer(_ block: Int, layer: Int, value: Bool, head: Int, slot: Int) -> UnsafeMutablePointer<Float> {
        storage[block] + (((layer * 2 + (value ? 1 : 0)) * kvHeads + head) * blockSize + slot) * headDim
    }
}
