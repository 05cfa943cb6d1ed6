/// Pads a list of sequences into one `TrainingBatch`.
public enum BatchCollator {
    /// Right-pads `examples` to the longest of them with `padID`: attention mask 1 on real tokens,
    /// loss mask 1 on target tokens, both 0 on padding. Right padding leaves every real token's
    /// causal context unchanged.
    public static func collate(_ examples: [TokenizedExample], padID: Int32) -> TrainingBatch {
        precondition(!examples.isEmpty, "BatchCollator: an empty batch")
        let b = examples.count
        let length = examples.map(\.ids.count).max()!
        var ids = [Int32](repeating: padID, count: b * length)
        var attention = [Float](repeating: 0, count: b * length)
        var loss = [Float](repeating: 0, count: b * length)
        for (r, e) in examples.enumerated() {
            for t in e.ids.indices {
                ids[r * length + t] = e.ids[t]
                attention[r * length + t] = 1
                loss[r * length + t] = e.lossMask[t] ? 1 : 0
            }
        }
        return TrainingBatch(inputIDs: Tensor(shape: [b, length], int32: ids),
                             attentionMask: Tensor(shape: [b, length], scalars: attention),
                             lossMask: Tensor(shape: [b, length], scalars: loss))
    }
}

/// The order in which a dataset is visited, epoch by epoch.
///
/// Each epoch's order is a function of the seed and the epoch number alone (a Fisher–Yates
/// shuffle driven by Philox), so a resumed run sees exactly the batches an uninterrupted run would,
/// without saving the permutation.
public enum EpochOrder {
    /// Indices `0..<count` in epoch `epoch`'s order.
    public static func permutation(count: Int, seed: UInt64, epoch: Int, shuffle: Bool = true) -> [Int] {
        var order = Array(0..<count)
        guard shuffle, count > 1 else { return order }
        var rng = PhiloxRNG(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch) &+ 1)
        for i in stride(from: count - 1, to: 0, by: -1) {
            // Rejection sampling keeps each position uniform (no modulo bias).
            let bound = UInt64(i + 1)
            let limit = UInt64.max - UInt64.max % bound
            var r = rng.next()
            while r >= limit { r = rng.next() }
            order.swapAt(i, Int(r % bound))
        }
        return order
    }
}
