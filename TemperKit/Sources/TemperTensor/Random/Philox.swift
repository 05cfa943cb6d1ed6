/// A counter-based random number generator (Philox-4x32-10, Salmon et al., SC'11).
///
/// The stream is a pure function of (seed, counter): block `i` of random bits is
/// `philox(key: seed, counter: i)`. That makes it reproducible on any thread count (a kernel that
/// fills a tensor in parallel computes the blocks for its own indices) and its whole state is two
/// integers, saved in checkpoints and restored bit-exactly.
public struct PhiloxRNG: RandomNumberGenerator, Codable, Equatable, Sendable {
    /// The key: the seed the stream was created with.
    public let seed: UInt64
    /// Index of the next 128-bit block to produce.
    public private(set) var counter: UInt64
    private var buffer: SIMD4<UInt32> = .zero
    private var buffered = 0

    /// A generator at the start of the stream for `seed`.
    public init(seed: UInt64) {
        self.seed = seed
        counter = 0
    }

    /// The state to save: restoring it with `init(state:)` continues the stream exactly.
    public var state: State { State(seed: seed, counter: counter, buffered: buffered, buffer: [buffer.x, buffer.y, buffer.z, buffer.w]) }

    /// A saved generator state.
    public struct State: Codable, Equatable, Sendable {
        public var seed: UInt64
        public var counter: UInt64
        public var buffered: Int
        public var buffer: [UInt32]
    }

    /// Continues a stream from a saved state.
    public init(state: State) {
        seed = state.seed
        counter = state.counter
        buffered = state.buffered
        let b = state.buffer + [0, 0, 0, 0]
        buffer = SIMD4(b[0], b[1], b[2], b[3])
    }

    /// The 4×32 random bits of block `counter` for `seed`; pure, so parallel fills can call it.
    @inlinable
    public static func block(seed: UInt64, counter: UInt64) -> SIMD4<UInt32> {
        var c0 = UInt32(truncatingIfNeeded: counter), c1 = UInt32(truncatingIfNeeded: counter >> 32)
        var c2: UInt32 = 0, c3: UInt32 = 0
        var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
        let m0: UInt64 = 0xD251_1F53, m1: UInt64 = 0xCD9E_8D57
        for _ in 0..<10 {
            let p0 = m0 &* UInt64(c0), p1 = m1 &* UInt64(c2)
            let hi0 = UInt32(p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            let n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1
            c0 = n0; c1 = lo1; c2 = n2; c3 = lo0
            k0 = k0 &+ 0x9E37_79B9; k1 = k1 &+ 0xBB67_AE85
        }
        return SIMD4(c0, c1, c2, c3)
    }

    /// Next 32 random bits.
    public mutating func next32() -> UInt32 {
        if buffered == 0 {
            buffer = Self.block(seed: seed, counter: counter)
            counter &+= 1
            buffered = 4
        }
        buffered -= 1
        return buffer[3 - buffered]
    }

    /// Next 64 random bits (two 32-bit draws).
    public mutating func next() -> UInt64 {
        UInt64(next32()) << 32 | UInt64(next32())
    }

    /// A float uniform in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next32() >> 8) * (1.0 / 16_777_216.0)
    }

    /// A standard normal draw (Box–Muller on two uniforms).
    public mutating func nextNormal() -> Float {
        let u1 = max(Float(next32() >> 8) + 1, 1) * (1.0 / 16_777_217.0)   // (0, 1]
        let u2 = nextUniform()
        return (-2 * _log(u1)).squareRoot() * _cos(2 * .pi * u2)
    }
}

@inline(__always) private func _log(_ x: Float) -> Float { Float(Foundation.log(Double(x))) }
@inline(__always) private func _cos(_ x: Float) -> Float { Float(Foundation.cos(Double(x))) }

import Foundation
