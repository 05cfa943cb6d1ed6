/// Format-blind mutations of a byte string, the way AFL and libFuzzer mutate: bit flips, random
/// bytes, insertions, deletions, duplicated ranges, interesting integers written over header fields,
/// truncation and splicing with another seed.
struct ByteMutator {
    /// Integers that sit on the edges parsers get wrong: zero, one, sign boundaries of every width,
    /// 2^40 (a "huge but plausible" count) and all ones (-1 in two's complement).
    static let interestingIntegers: [UInt64] = [
        0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
        0x1_0000_0000, 1 << 40, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, UInt64.max,
    ]

    /// Bytes `0..<headerEnd` hold the format's header (counts, lengths, offsets); integer
    /// mutations aim there, since that is where a size read from the file comes from.
    var headerEnd: Int

    /// Applies one randomly chosen mutation; `others` are the other seeds, for splicing.
    func mutate(_ bytes: inout [UInt8], rng: inout FuzzRandom, others: [[UInt8]]) {
        switch rng.below(10) {
        case 0 where !bytes.isEmpty:
            let i = rng.below(bytes.count)
            bytes[i] ^= UInt8(1) << UInt8(rng.below(8))
        case 1 where !bytes.isEmpty:
            bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next())
        case 2:
            let n = 1 + rng.below(16)
            let fill = rng.chance(0.5) ? nil : UInt8(truncatingIfNeeded: rng.next())
            let chunk = (0..<n).map { _ in fill ?? UInt8(truncatingIfNeeded: rng.next()) }
            bytes.insert(contentsOf: chunk, at: rng.below(bytes.count + 1))
        case 3 where !bytes.isEmpty:
            let start = rng.below(bytes.count)
            let n = 1 + rng.below(min(64, bytes.count - start))
            bytes.removeSubrange(start..<start + n)
        case 4 where !bytes.isEmpty:
            let start = rng.below(bytes.count)
            let n = 1 + rng.below(min(64, bytes.count - start))
            bytes.insert(contentsOf: bytes[start..<start + n], at: rng.below(bytes.count + 1))
        case 5, 6:
            writeInterestingInteger(&bytes, rng: &rng)
        case 7 where !bytes.isEmpty:
            bytes.removeSubrange(rng.below(bytes.count)...)
        case 8 where !others.isEmpty:
            let other = rng.pick(others)
            let cut = rng.below(bytes.count + 1)
            let from = rng.below(other.count + 1)
            bytes = Array(bytes[..<cut]) + other[from...]
        default:
            if !bytes.isEmpty { bytes[rng.below(bytes.count)] = UInt8(truncatingIfNeeded: rng.next()) }
            else { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
        }
    }

    /// Writes an interesting integer, or a size near the file's own length, little-endian at a
    /// header offset, in a width of 1, 2, 4 or 8 bytes.
    private func writeInterestingInteger(_ bytes: inout [UInt8], rng: inout FuzzRandom) {
        let width = rng.pick([1, 2, 4, 8])
        guard bytes.count >= width else { return }
        let limit = max(1, min(headerEnd, bytes.count) - width + 1)
        let offset = rng.below(limit)
        var value: UInt64
        switch rng.below(3) {
        case 0:
            value = rng.pick(Self.interestingIntegers)
        case 1:
            let sizes = [bytes.count, headerEnd, bytes.count - headerEnd]
            value = UInt64(bitPattern: Int64(rng.pick(sizes) + rng.below(17) - 8))
        default:
            var current: UInt64 = 0
            for k in 0..<width { current |= UInt64(bytes[offset + k]) << UInt64(8 * k) }
            value = current &+ UInt64(bitPattern: Int64(rng.below(33) - 16))
        }
        for k in 0..<width {
            bytes[offset + k] = UInt8(truncatingIfNeeded: value >> UInt64(8 * k))
        }
    }
}
