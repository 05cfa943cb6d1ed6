import Foundation
import TemperCore

/// Structure-aware mutations of JSON: the document is parsed, one value is replaced, removed,
/// retyped or copied, and it is written back, so the input still parses and reaches the checks
/// behind the parser (field types, ranges, sizes). Textual edits then add what a JSON writer
/// cannot produce: numbers beyond Double, NaN, deep nesting, lone surrogates, duplicate keys.
struct JSONMutator {
    /// Field names the target reads, added as unknown-or-known keys.
    var dictionary: [String]

    /// Values that sit on the edges: sign and width boundaries, sizes far beyond memory, the wrong
    /// JSON type for every field, and empty containers.
    static let interestingValues: [JSONValue] =
        [0, -1, 1, 2, 255, 256, 65_536, 2_147_483_647, 2_147_483_648, 4_294_967_296, 1 << 40, Int.max, Int.min].map { .int($0) }
        + [1.8446744073709552e19, 1e9, 1e18, 1e308, -1e308, 0.5, -0.0, 5e-324].map { .double($0) }
        + ["", "x", "-1", String(repeating: "a", count: 300), "<|im_end|>", "\u{0}", "é\u{301}", "🤖"].map { .string($0) }
        + [.array([]), .array([.int(0)]), .array([.string("a")]), .array([.array([])]), .object([:]), .object(["a": .int(1)]),
           .null, .bool(true), .bool(false)]

    /// Number tokens a JSON writer refuses but a file may hold.
    static let rawNumbers = ["1e999", "-1e999", "1e-999", "NaN", "Infinity", "-0", "123456789012345678901234567890",
                             "9223372036854775808", "-9223372036854775809", "1.7976931348623157e309", "0x10", "01"]

    /// Parses `bytes`; nil when they are not JSON.
    static func parse(_ bytes: [UInt8]) -> JSONValue? { try? JSONValue.parse(Data(bytes), source: "seed") }

    /// `edits` structural edits of `root` (a value replaced, removed, retyped, duplicated or
    /// copied from elsewhere in the document), written back as JSON.
    func mutate(tree root: JSONValue, edits: Int, rng: inout FuzzRandom) -> [UInt8] {
        var root = root
        for _ in 0..<edits {
            var paths: [[PathStep]] = []
            collect(root, at: [], into: &paths, rng: &rng)
            let path = rng.pick(paths)
            let donor = value(in: root, at: rng.pick(paths))
            root = edit(root, at: path[...], rng: &rng, donor: donor)
        }
        var out: [UInt8] = []
        JSONText.write(root, into: &out)
        return out
    }

    /// A step into a container: a key of an object or an index of an array.
    enum PathStep { case key(String), index(Int) }

    /// Every value's path (reservoir-limited to keep big documents cheap).
    private func collect(_ v: JSONValue, at path: [PathStep], into paths: inout [[PathStep]], rng: inout FuzzRandom) {
        if paths.count < 4096 { paths.append(path) } else if rng.below(paths.count) < 4096 { paths[rng.below(4096)] = path }
        switch v {
        case .object(let o): for (k, c) in o { collect(c, at: path + [.key(k)], into: &paths, rng: &rng) }
        case .array(let a): for (i, c) in a.enumerated() { collect(c, at: path + [.index(i)], into: &paths, rng: &rng) }
        default: break
        }
    }

    private func value(in v: JSONValue, at path: [PathStep]) -> JSONValue {
        var cur = v
        for step in path {
            switch (step, cur) {
            case (.key(let k), .object(let o)): cur = o[k] ?? .null
            case (.index(let i), .array(let a)) where i < a.count: cur = a[i]
            default: return .null
            }
        }
        return cur
    }

    /// Rebuilds `v` with the value at `path` edited (or, at the container holding it, removed).
    private func edit(_ v: JSONValue, at path: ArraySlice<PathStep>, rng: inout FuzzRandom, donor: JSONValue) -> JSONValue {
        guard let step = path.first else { return replacement(for: v, rng: &rng, donor: donor) }
        let rest = path.dropFirst()
        switch (step, v) {
        case (.key(let k), .object(var o)):
            guard let child = o[k] else { return v }
            if rest.isEmpty && rng.chance(0.15) { o[k] = nil; return .object(o) }
            if rest.isEmpty && rng.chance(0.1), !dictionary.isEmpty { o[rng.pick(dictionary)] = rng.pick(Self.interestingValues) }
            o[k] = edit(child, at: rest, rng: &rng, donor: donor)
            return .object(o)
        case (.index(let i), .array(var a)) where i < a.count:
            if rest.isEmpty && rng.chance(0.15) { a.remove(at: i); return .array(a) }
            if rest.isEmpty && rng.chance(0.1) { a.insert(a[i], at: i); return .array(a) }
            a[i] = edit(a[i], at: rest, rng: &rng, donor: donor)
            return .array(a)
        default:
            return v
        }
    }

    private func replacement(for v: JSONValue, rng: inout FuzzRandom, donor: JSONValue) -> JSONValue {
        switch (rng.below(6), v) {
        case (0, _): return donor
        case (1, _): return .array([v])
        case (2, .array): return .array([])
        case (3, .array(let a)): return .array(a.reversed())
        case (4, .object(var o)) where !dictionary.isEmpty:
            o[rng.pick(dictionary)] = rng.pick(Self.interestingValues)
            return .object(o)
        case (5, .int(let n)): return .int(n &+ (rng.below(5) - 2))
        default: return rng.pick(Self.interestingValues)
        }
    }

    /// Edits of the text: a number token becomes one JSON writers refuse, a value becomes deeply
    /// nested, a string gains a lone surrogate or a raw control byte, a key is duplicated.
    func textual(_ bytes: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        var b = bytes
        let digits = b.indices.filter { b[$0] >= 0x30 && b[$0] <= 0x39 && ($0 == 0 || !(b[$0 - 1] >= 0x30 && b[$0 - 1] <= 0x39)) }
        switch rng.below(5) {
        case 0 where !digits.isEmpty:
            let start = rng.pick(digits)
            var end = start
            while end < b.count, (b[end] >= 0x30 && b[end] <= 0x39) || b[end] == 0x2E || b[end] == 0x65 { end += 1 }
            b.replaceSubrange(start..<end, with: Array(rng.pick(Self.rawNumbers).utf8))
        case 1:
            let depth = rng.pick([64, 600, 5_000, 100_000])
            let at = b.firstIndex(of: UInt8(ascii: ":")).map { $0 + 1 } ?? 0
            b.insert(contentsOf: Array(repeating: UInt8(ascii: "["), count: depth) + [UInt8(ascii: "1")]
                     + Array(repeating: UInt8(ascii: "]"), count: depth) + Array(",".utf8), at: at)
        case 2:
            let quotes = b.indices.filter { b[$0] == UInt8(ascii: "\"") }
            if let q = quotes.isEmpty ? nil : rng.pick(quotes) {
                b.insert(contentsOf: Array(rng.pick(["\\ud800", "\\u0000", "\u{1}", "\\", "\\uZZZZ", "\u{FF}"]).utf8), at: q + 1)
            }
        case 3:
            if let open = b.firstIndex(of: UInt8(ascii: "{")), let key = dictionary.isEmpty ? nil : rng.pick(dictionary) {
                b.insert(contentsOf: Array("\"\(key)\":1,\"\(key)\":\"dup\",".utf8), at: open + 1)
            }
        default:
            b.insert(contentsOf: Array(rng.pick(Self.rawNumbers).utf8), at: rng.below(b.count + 1))
        }
        return b
    }
}
