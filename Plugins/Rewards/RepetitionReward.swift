import TemperCore

/// N-gram repetition penalty (as Open-R1's): r = max_penalty · (1 − #distinct n-grams / #n-grams),
/// so text without a repeated n-gram scores 0 and text that is one n-gram over and over approaches
/// `max_penalty`. It discourages the degenerate loops RL policies fall into when long outputs pay.
///
/// Units are lower-cased whitespace-separated words by default (Open-R1's choice, independent of
/// the tokenizer), or token ids with `unit=tokens` (words where a batch carries no token ids). A
/// completion shorter than one n-gram scores 0.
public struct RepetitionReward: RewardFunction {
    /// Registered name.
    public static let name = "repetition"
    /// One-line summary for `temper plugins`.
    public static let summary = "n-gram repetition penalty: max_penalty × share of repeated n-grams (0 for none)"
    /// N-gram size, penalty scale and unit.
    public static let parameters: [ParameterSpec] = [
        .int("ngram_size", default: 3, range: .atLeast(1), aliases: ["repetition_n_grams"], doc: "n of the n-grams compared"),
        .float("max_penalty", default: -1.0, range: .init(lower: nil, upper: 0), aliases: ["repetition_max_penalty"],
               doc: "reward of fully repetitive text (≤ 0)"),
        .choice("unit", ["words", "tokens"], default: "words",
                doc: "n-grams of lower-cased whitespace-separated words, or of token ids"),
    ]

    private let n: Int
    private let maxPenalty: Float
    private let useTokens: Bool

    /// Reads the settings (ranges are checked by the parameter specs).
    public init(config: ComponentConfig) throws {
        n = try config.int("ngram_size")
        maxPenalty = try config.float("max_penalty")
        useTokens = try config.string("unit") == "tokens"
    }

    /// One value in [max_penalty, 0] per completion.
    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        return (0..<batch.count).map { i in
            let ids = useTokens && !batch.completionTokenIDs[i].isEmpty
                ? batch.completionTokenIDs[i].map(Int.init) : Self.wordIDs(batch.completions[i])
            return maxPenalty * Self.repeatedShare(ids, n: n)
        }
    }

    /// 1 − distinct/total over the n-grams of `units`; 0 when there are none.
    ///
    /// N-grams are numbered exactly, without building one array per n-gram: pass k gives every
    /// position the number of its k-gram by interning the pair (number of its (k−1)-gram, unit k).
    static func repeatedShare(_ units: [Int], n: Int) -> Float {
        let total = units.count - n + 1
        guard total > 0 else { return 0 }
        var ids = units
        var pairs: [Pair: Int] = [:]
        for k in 1..<n {
            pairs.removeAll(keepingCapacity: true)
            for start in 0..<(units.count - k) {
                let pair = Pair(prefix: ids[start], next: units[start + k])
                if let id = pairs[pair] {
                    ids[start] = id
                } else {
                    ids[start] = pairs.count
                    pairs[pair] = pairs.count
                }
            }
        }
        let distinct = n == 1 ? Set(units).count : pairs.count
        return 1 - Float(distinct) / Float(total)
    }

    /// Words as small integers (the same word, case aside, gets the same id).
    static func wordIDs(_ text: String) -> [Int] {
        var ids: [Substring: Int] = [:]
        return text.lowercased().split(whereSeparator: \.isWhitespace).map { word in
            if let id = ids[word] { return id }
            ids[word] = ids.count
            return ids.count - 1
        }
    }
}

/// A (k−1)-gram number followed by one more unit: the key that numbers k-grams.
private struct Pair: Hashable {
    let prefix: Int
    let next: Int
}
