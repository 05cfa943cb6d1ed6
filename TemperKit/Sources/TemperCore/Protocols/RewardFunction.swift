import Foundation

/// A dataset cell as a reward sees it: JSONL values keep their JSON shape.
public indirect enum ColumnValue: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([ColumnValue])
    case object([String: ColumnValue])

    /// The text of a string cell, or the JSON text of any other cell (what C rewards receive).
    public var text: String {
        switch self {
        case .string(let s): return s
        default: return json
        }
    }

    /// Compact JSON encoding.
    public var json: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : "\(d)"
        case .string(let s):
            let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data()
            return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        case .array(let a): return "[" + a.map(\.json).joined(separator: ",") + "]"
        case .object(let o): return "{" + o.keys.sorted().map { ColumnValue.string($0).json + ":" + o[$0]!.json }.joined(separator: ",") + "}"
        }
    }

    public var description: String { json }
}

/// One batch of completions to score, with everything a reward may look at.
///
/// Arrays are parallel: element `i` of each belongs to completion `i`. With several completions per
/// prompt (GRPO groups, best-of-N) the prompt and its columns are repeated per completion.
public struct RewardBatch {
    /// The prompt text each completion answers (chat-rendered where the data was conversational).
    public var prompts: [String]
    /// The generated text.
    public var completions: [String]
    /// The generated token ids (for length penalties and token-level checks).
    public var completionTokenIDs: [[Int32]]
    /// Every other dataset column by name (`answer`, `test_list`, ...), one value per completion.
    public var columns: [String: [ColumnValue]]

    /// A batch; `completionTokenIDs` may be empty when no tokenizer is involved (tests, evaluation of
    /// text files), and then holds empty arrays.
    public init(prompts: [String], completions: [String], completionTokenIDs: [[Int32]] = [], columns: [String: [ColumnValue]] = [:]) {
        self.prompts = prompts
        self.completions = completions
        self.completionTokenIDs = completionTokenIDs.isEmpty ? Array(repeating: [], count: completions.count) : completionTokenIDs
        self.columns = columns
    }

    /// Number of completions.
    public var count: Int { completions.count }

    /// The column `name`, or an error naming the reward, the column and those present.
    public func column(_ name: String, for reward: String) throws -> [ColumnValue] {
        guard let c = columns[name] else {
            throw SpecError("\(reward): needs the dataset column '\(name)'; the data has " +
                            (columns.isEmpty ? "no extra columns" : columns.keys.sorted().joined(separator: ", ")))
        }
        return c
    }

    /// Checks that every array has one entry per completion.
    public func validate() throws {
        guard prompts.count == count, completionTokenIDs.count == count else {
            throw SpecError("reward batch: \(count) completions but \(prompts.count) prompts and \(completionTokenIDs.count) token lists")
        }
        for (name, values) in columns where values.count != count {
            throw SpecError("reward batch: column '\(name)' has \(values.count) values for \(count) completions")
        }
    }
}

/// Anything that scores completions: a single reward, or a weighted sum of several.
public protocol RewardScoring {
    /// One score per completion; nil where the reward does not apply (e.g. no answer column for
    /// this row), so a weighted sum can skip it rather than count it as zero.
    func score(_ batch: RewardBatch) throws -> [Float?]
}

/// A reward plugin: used by RL objectives, by search strategies as a verifier, and by evaluation.
public protocol RewardFunction: Component, RewardScoring {}

extension RewardFunction {
    public static var kind: ComponentKind { .reward }
}

/// A reward with the weight it carries in a sum (`--reward format:weight=0.2`).
public struct WeightedReward {
    /// Spec name, for metrics (`rewards/exact-match`).
    public var name: String
    /// The reward.
    public var reward: any RewardScoring
    /// Its factor in the total.
    public var weight: Float

    /// Pairs a reward with its weight.
    public init(name: String, reward: any RewardScoring, weight: Float = 1) {
        self.name = name
        self.reward = reward
        self.weight = weight
    }
}

/// The weighted sum of several rewards, as TRL's `reward_weights`: nil scores are left out of the
/// sum; a completion every reward skips scores nil.
public struct RewardSum: RewardScoring {
    /// The terms.
    public var terms: [WeightedReward]

    /// A sum of `terms`.
    public init(_ terms: [WeightedReward]) { self.terms = terms }

    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        var total = [Float?](repeating: nil, count: batch.count)
        for term in terms {
            let scores = try term.reward.score(batch)
            guard scores.count == batch.count else {
                throw SpecError("reward \(term.name) returned \(scores.count) scores for \(batch.count) completions")
            }
            for (i, s) in scores.enumerated() {
                if let s { total[i] = (total[i] ?? 0) + term.weight * s }
            }
        }
        return total
    }
}
