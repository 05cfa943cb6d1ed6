import Foundation
import TemperCore

/// Length shaping for reasoning RL, by completion length in tokens.
///
/// - `cosine` (Yeo et al. 2025, "Demystifying Long Chain-of-Thought Reasoning in LLMs"): a cosine
///   schedule from the value at length 0 to the value at `max_len`. Correct answers go from
///   `max_value_correct` (short) down to `min_value_correct` (long), so among right answers the
///   shorter wins; wrong answers go from `min_value_wrong` (short) up to `max_value_wrong` (long),
///   so a model that is going to be wrong is pushed to think longer rather than to guess early:
///   r(L) = r_L + ½(r_0 − r_L)(1 + cos(π·L/max_len)), with L clamped to `max_len`.
///   Correctness comes from another registered reward named by `correct_reward` (default
///   `math-equiv`, reading the `answer` column): a score ≥ `correct_threshold` counts as correct; a
///   nil score (no gold answer in that row) makes this reward nil too. `correct_reward=none` treats
///   every completion as correct, a purely length-based preference for short answers.
/// - `overlong` (DAPO's soft overlong punishment, Yu et al. 2025): with L_max = `max_completion_length`
///   and L_cache = `cache_length`, 0 while L ≤ L_max − L_cache, then ((L_max − L_cache) − L)/L_cache
///   down to −1 at L_max, and −1 beyond. It is meant to be added to the accuracy reward.
///
/// Length is `completionTokenIDs.count`; when a batch carries no token ids (scoring text files
/// without a tokenizer) the number of whitespace-separated words stands in for it.
public struct LengthReward: RewardFunction {
    /// Registered name.
    public static let name = "length"
    /// One-line summary for `temper plugins`.
    public static let summary = "length shaping: cosine-scaled by correctness (Yeo et al. 2025) or DAPO's soft overlong penalty"
    /// Schedule, its values and the correctness signal.
    public static let parameters: [ParameterSpec] = [
        .choice("mode", ["cosine", "overlong"], default: "cosine",
                doc: "cosine = correctness-dependent cosine schedule; overlong = DAPO soft overlong punishment"),
        .int("max_len", default: 1000, range: .atLeast(1), aliases: ["cosine_max_len"],
             doc: "cosine: length (tokens) at which the schedule reaches its end values; longer counts as max_len"),
        .float("min_value_correct", default: 0.5, doc: "cosine: reward of a correct answer of length max_len"),
        .float("max_value_correct", default: 1.0, doc: "cosine: reward of a correct answer of length 0"),
        .float("min_value_wrong", default: -1.0, doc: "cosine: reward of a wrong answer of length 0"),
        .float("max_value_wrong", default: -0.5, doc: "cosine: reward of a wrong answer of length max_len"),
        .string("correct_reward", default: "math-equiv",
                doc: "cosine: registered reward (name only) deciding correctness, e.g. math-equiv or exact-match; none = treat all as correct"),
        .float("correct_threshold", default: 0.5, doc: "cosine: a correct_reward score at or above this counts as correct"),
        .int("max_completion_length", default: 20480, range: .atLeast(1),
             doc: "overlong: L_max, the generation limit in tokens (DAPO: 20480)"),
        .int("cache_length", default: 4096, range: .atLeast(1), aliases: ["overlong_buffer_len"],
             doc: "overlong: L_cache, the soft-punishment interval below L_max (DAPO: 4096)"),
    ]

    private enum Schedule {
        case cosine(CosineLengthSchedule, correctness: (any RewardScoring)?, threshold: Float)
        case overlong(OverlongPenalty)
    }

    private let schedule: Schedule

    /// Reads the settings; checks that the value ranges and lengths are consistent.
    public init(config: ComponentConfig) throws {
        switch try config.string("mode") {
        case "overlong":
            let maxLength = try config.int("max_completion_length"), cache = try config.int("cache_length")
            guard cache <= maxLength else {
                throw SpecError("length: cache_length=\(cache) must not exceed max_completion_length=\(maxLength)")
            }
            schedule = .overlong(OverlongPenalty(maxLength: maxLength, cacheLength: cache))
        default:
            let cosine = CosineLengthSchedule(maxLength: try config.int("max_len"),
                                              correct: (try config.double("max_value_correct"), try config.double("min_value_correct")),
                                              wrong: (try config.double("min_value_wrong"), try config.double("max_value_wrong")))
            let judge = try config.string("correct_reward")
            let correctness: (any RewardScoring)?
            if judge == "none" {
                correctness = nil
            } else {
                guard judge != Self.name else { throw SpecError("length: correct_reward cannot be length itself") }
                guard !judge.contains(":") else {
                    throw SpecError("length: correct_reward takes a reward name without settings (got '\(judge)'); the named reward runs with its defaults")
                }
                correctness = try ComponentRegistry.shared.reward(judge).reward
            }
            schedule = .cosine(cosine, correctness: correctness, threshold: try config.float("correct_threshold"))
        }
    }

    /// One value per completion; nil where `correct_reward` cannot judge the row.
    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        let lengths = (0..<batch.count).map { i in
            batch.completionTokenIDs[i].isEmpty ? Self.wordCount(batch.completions[i]) : batch.completionTokenIDs[i].count
        }
        switch schedule {
        case .overlong(let penalty):
            return lengths.map { Float(penalty.value(length: $0)) }
        case .cosine(let cosine, let correctness, let threshold):
            guard let correctness else { return lengths.map { Float(cosine.value(length: $0, correct: true)) } }
            let verdicts = try correctness.score(batch)
            guard verdicts.count == batch.count else {
                throw SpecError("length: correct_reward returned \(verdicts.count) scores for \(batch.count) completions")
            }
            return zip(lengths, verdicts).map { length, verdict in
                verdict.map { Float(cosine.value(length: length, correct: $0 >= threshold)) }
            }
        }
    }

    /// Whitespace-separated words: the stand-in length when no token ids are available.
    static func wordCount(_ text: String) -> Int {
        var count = 0, inWord = false
        for s in text.unicodeScalars {
            let space = s.properties.isWhitespace
            if !space && !inWord { count += 1 }
            inWord = !space
        }
        return count
    }
}

/// The cosine schedule of Yeo et al.: r(L) = r_end + ½(r_start − r_end)(1 + cos(π·min(L, max)/max)).
struct CosineLengthSchedule {
    var maxLength: Int
    /// (value at length 0, value at max length) for correct answers.
    var correct: (start: Double, end: Double)
    /// (value at length 0, value at max length) for wrong answers.
    var wrong: (start: Double, end: Double)

    func value(length: Int, correct isCorrect: Bool) -> Double {
        let (start, end) = isCorrect ? correct : wrong
        let progress = Double(min(length, maxLength)) / Double(maxLength)
        return end + 0.5 * (start - end) * (1 + cos(Double.pi * progress))
    }
}

/// DAPO's soft overlong punishment.
struct OverlongPenalty {
    var maxLength: Int
    var cacheLength: Int

    func value(length: Int) -> Double {
        let softStart = maxLength - cacheLength
        if length <= softStart { return 0 }
        if length > maxLength { return -1 }
        return Double(softStart - length) / Double(cacheLength)
    }
}
