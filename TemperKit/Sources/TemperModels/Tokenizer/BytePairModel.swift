/// Byte-pair merging over token ids: a word's bytes start as their one-byte tokens and the pair with
/// the lowest merge rank is merged repeatedly (leftmost first among equal ranks) until no pair of
/// neighbours has a merge.
///
/// Merging uses a binary heap of candidate pairs over a doubly linked list of symbols, so a word of
/// n bytes costs O(n log n) rather than the O(n²) of rescanning for the best pair after each merge.
struct BytePairModel: Sendable {
    /// The token id of each single byte; -1 for a byte the vocabulary lacks (SmolLM2 has no token
    /// for a few control bytes and for bytes that never occur in UTF-8).
    let byteTokens: [Int32]
    /// What a lacking byte becomes: the model's `unk_token`, or nothing at all when it has none,
    /// which is what the reference BPE implementation does.
    let unknownToken: Int32?
    /// Merge table keyed by `left << 32 | right`; the value packs `rank << 32 | mergedToken`.
    let merges: [UInt64: UInt64]
    /// With `ignore_merges` (Llama 3), a word that is itself a vocabulary token is emitted whole.
    let wholeWords: [[UInt8]: Int32]?

    @inline(__always) static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    /// Appends the tokens of one word to `output`; `scratch` is reused across words.
    func encode(word: UnsafeBufferPointer<UInt8>, into output: inout [Int32], scratch: inout BytePairScratch) {
        let n = word.count
        if n == 0 { return }
        if let wholeWords, let id = wholeWords[Array(word)] {
            output.append(id)
            return
        }
        if n == 1 {
            appendByte(word[0], to: &output)
            return
        }
        // Lacking bytes are left out (or replaced by the unknown token) before merging, so the
        // bytes around them become neighbours, as in the reference implementation.
        var count = 0
        scratch.reserve(n)
        for byte in word {
            let id = byteTokens[Int(byte)]
            if id >= 0 {
                scratch.symbols[count] = id
            } else if let unknownToken {
                scratch.symbols[count] = unknownToken
            } else {
                continue
            }
            count += 1
        }
        if count == 0 { return }
        scratch.link(count: count)
        for i in 0..<(count - 1) { pushPair(at: i, &scratch) }

        while let top = scratch.popMin() {
            let rank = UInt32(truncatingIfNeeded: top >> 32)
            let position = Int(UInt32(truncatingIfNeeded: top))
            let right = scratch.next[position]
            // Entries go stale when a neighbour was merged away or changed; skip those.
            guard scratch.symbols[position] >= 0, right >= 0 else { continue }
            guard let merge = merges[Self.key(scratch.symbols[position], scratch.symbols[Int(right)])],
                  UInt32(truncatingIfNeeded: merge >> 32) == rank else { continue }
            scratch.symbols[position] = Int32(truncatingIfNeeded: merge)
            let afterRight = scratch.next[Int(right)]
            scratch.symbols[Int(right)] = -1
            scratch.next[position] = afterRight
            if afterRight >= 0 { scratch.previous[Int(afterRight)] = Int32(position) }
            let left = scratch.previous[position]
            if left >= 0 { pushPair(at: Int(left), &scratch) }
            if afterRight >= 0 { pushPair(at: position, &scratch) }
        }
        var i = 0
        while i >= 0 {
            output.append(scratch.symbols[i])
            i = Int(scratch.next[i])
        }
    }

    /// Appends the token of a one-byte word.
    @inline(__always)
    func appendByte(_ byte: UInt8, to output: inout [Int32]) {
        let id = byteTokens[Int(byte)]
        if id >= 0 { output.append(id) } else if let unknownToken { output.append(unknownToken) }
    }

    @inline(__always)
    private func pushPair(at position: Int, _ scratch: inout BytePairScratch) {
        let right = Int(scratch.next[position])
        guard let merge = merges[Self.key(scratch.symbols[position], scratch.symbols[right])] else { return }
        scratch.push((merge >> 32) << 32 | UInt64(position))
    }
}

/// Working memory for merging one word: the linked list of symbols and the candidate heap. Kept
/// between words so that encoding long text allocates only when a longer word appears.
struct BytePairScratch {
    /// Token id at each position; -1 once merged into its left neighbour.
    var symbols: [Int32] = []
    /// Index of the next live symbol, -1 at the end.
    var next: [Int32] = []
    /// Index of the previous live symbol, -1 at the start.
    var previous: [Int32] = []
    /// Min-heap of `rank << 32 | position`: lowest rank first, then leftmost.
    private var heap: [UInt64] = []

    /// Makes room for `n` symbols.
    mutating func reserve(_ n: Int) {
        if symbols.count < n {
            symbols = [Int32](repeating: 0, count: n)
            next = [Int32](repeating: 0, count: n)
            previous = [Int32](repeating: 0, count: n)
        }
    }

    /// Links the first `n` symbols into a list and empties the heap.
    mutating func link(count n: Int) {
        for i in 0..<n {
            next[i] = i + 1 < n ? Int32(i + 1) : -1
            previous[i] = Int32(i - 1)
        }
        heap.removeAll(keepingCapacity: true)
    }

    mutating func push(_ value: UInt64) {
        heap.append(value)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[parent] > heap[child] else { break }
            heap.swapAt(parent, child)
            child = parent
        }
    }

    mutating func popMin() -> UInt64? {
        guard let last = heap.popLast() else { return nil }
        guard !heap.isEmpty else { return last }
        let top = heap[0]
        heap[0] = last
        var parent = 0
        let count = heap.count
        while true {
            let left = 2 * parent + 1
            if left >= count { break }
            var smallest = left
            if left + 1 < count && heap[left + 1] < heap[left] { smallest = left + 1 }
            guard heap[smallest] < heap[parent] else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
