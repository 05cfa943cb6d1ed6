import TemperTensor

/// Keys and values of every layer for the tokens seen so far, so decoding one more token costs one
/// token's worth of compute instead of re-running the whole prefix.
///
/// Each layer's cache is preallocated to `capacity` positions (`[B, Hkv, capacity, D]`); new keys
/// are written in place and attention reads the filled prefix as a view.
public final class KVCache {
    /// Batch size the cache was made for.
    public let batchSize: Int
    /// Most positions it can hold.
    public let capacity: Int
    /// Positions filled so far (the same for every layer once a forward pass completes).
    public private(set) var length = 0
    private var keys: [Tensor]
    private var values: [Tensor]

    /// An empty cache for `config`'s layers.
    public init(config: ModelConfig, batchSize: Int, capacity: Int) {
        self.batchSize = batchSize
        self.capacity = capacity
        let shape = [batchSize, config.numKeyValueHeads, capacity, config.headDim]
        keys = (0..<config.numHiddenLayers).map { _ in Tensor.zeros(shape) }
        values = (0..<config.numHiddenLayers).map { _ in Tensor.zeros(shape) }
    }

    /// Appends `k`, `v` (`[B, Hkv, T, D]`) for `layer` at the current length and returns the keys
    /// and values of all positions so far. The last layer's call advances `length`.
    func append(layer: Int, key k: Tensor, value v: Tensor) -> (Tensor, Tensor) {
        let t = k.shape[2]
        precondition(length + t <= capacity, "KV cache full: \(length) + \(t) positions > capacity \(capacity)")
        let kd = keys[layer], vd = values[layer]
        kd.narrow(2, start: length, length: t).assign(from: k)
        vd.narrow(2, start: length, length: t).assign(from: v)
        let total = length + t
        if layer == keys.count - 1 { length = total }
        return (kd.narrow(2, start: 0, length: total), vd.narrow(2, start: 0, length: total))
    }

    /// The filled keys and values of `layer` (`[B, Hkv, length, D]` views).
    func keyValues(layer: Int) -> (key: Tensor, value: Tensor) {
        (keys[layer].narrow(2, start: 0, length: length), values[layer].narrow(2, start: 0, length: length))
    }

    /// Keeps only batch rows `rows` (in that order), for search strategies that prune or fork
    /// candidates. Returns a new cache; this one is unchanged.
    public func selecting(rows: [Int]) -> KVCache {
        KVCache(copying: self, rows: rows)
    }

    private init(copying other: KVCache, rows: [Int]) {
        batchSize = rows.count
        capacity = other.capacity
        length = other.length
        keys = other.keys.map { KVCache.gather($0, rows: rows, filled: other.length) }
        values = other.values.map { KVCache.gather($0, rows: rows, filled: other.length) }
    }

    /// Batch rows `rows` of `t` (`[B, Hkv, capacity, D]`), copying only the first `filled`
    /// positions of each head: a decode that drops a finished row early in a long budget would
    /// otherwise copy the whole preallocated cache. Positions past `filled` are written before
    /// attention reads them.
    private static func gather(_ t: Tensor, rows: [Int], filled: Int) -> Tensor {
        let heads = t.shape[1], capacity = t.shape[2], dim = t.shape[3]
        let out = Tensor(uninitializedShape: [rows.count] + Array(t.shape.dropFirst()))
        for (i, r) in rows.enumerated() {
            for h in 0..<heads {
                (out.floatPointer + (i * heads + h) * capacity * dim)
                    .update(from: t.floatPointer + (r * heads + h) * capacity * dim, count: filled * dim)
            }
        }
        return out
    }
}
