/// Uniform draws for task generators, defined bit-for-bit on top of `PhiloxRNG`.
///
/// The standard library's `Int.random(in:using:)` does not promise its algorithm across Swift
/// versions; these draws do (rejection sampling on 64-bit words), so a seed names the same
/// dataset everywhere.
public struct TaskRandom {
    private var generator: PhiloxRNG

    /// A stream for `seed`.
    public init(seed: UInt64) { generator = PhiloxRNG(seed: seed) }

    /// A uniform integer in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(bitPattern: Int64(range.upperBound &- range.lowerBound)) &+ 1
        if span == 0 { return Int(bitPattern: UInt(generator.next())) }   // the whole Int range
        // Reject the top partial block of 2^64 so every residue is equally likely.
        let limit = UInt64.max - (UInt64.max % span + 1) % span
        var word = generator.next()
        while word > limit { word = generator.next() }
        return range.lowerBound &+ Int(bitPattern: UInt(word % span))
    }

    /// A uniformly chosen element of a non-empty collection.
    public mutating func pick<C: RandomAccessCollection>(_ items: C) -> C.Element where C.Index == Int {
        items[items.startIndex + int(in: 0...(items.count - 1))]
    }

    /// True with probability 1/2.
    public mutating func coin() -> Bool { int(in: 0...1) == 1 }

    /// The elements in a uniformly random order (Fisher–Yates).
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var out = items
        if out.count < 2 { return out }
        for i in stride(from: out.count - 1, to: 0, by: -1) {
            out.swapAt(i, int(in: 0...i))
        }
        return out
    }
}
