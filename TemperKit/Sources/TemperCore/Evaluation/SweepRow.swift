import Foundation

/// A mean and its spread over seeds.
public struct MeanSpread: Equatable, Sendable {
    /// Arithmetic mean.
    public var mean: Double
    /// Sample standard deviation (n − 1 in the denominator); 0 for a single value.
    public var std: Double

    /// A mean and spread already computed.
    public init(mean: Double, std: Double) {
        self.mean = mean
        self.std = std
    }

    /// The mean and sample standard deviation of `values` (0 and 0 when empty).
    public init(_ values: [Double]) {
        guard !values.isEmpty else { mean = 0; std = 0; return }
        mean = values.reduce(0, +) / Double(values.count)
        let m = mean
        std = values.count < 2 ? 0 : (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count - 1)).squareRoot()
    }
}

/// One point of a test-time-scaling sweep: a strategy at one budget, every figure over seeds.
public struct SweepRow: Equatable, Sendable {
    /// The strategy's spec.
    public var search: String
    /// Samples per prompt it ran with.
    public var budget: Int
    /// Seeds averaged.
    public var seeds: Int
    /// Fraction of items whose answer the reward accepts.
    public var accuracy: MeanSpread
    /// Unbiased pass@1 over each item's candidates, averaged over items.
    public var passAt1: MeanSpread
    /// Unbiased pass@k with k = the item's candidate count (≤ budget), averaged over items.
    public var passAtK: MeanSpread
    /// Fraction of items whose majority-vote answer among the candidates the reward accepts.
    public var majAtK: MeanSpread
    /// Generated tokens per item (the chart's x axis).
    public var tokensPerAnswer: MeanSpread
    /// Prefill and scoring tokens per item.
    public var tokensScoredPerAnswer: MeanSpread
    /// Model forward passes per item.
    public var forwardPassesPerAnswer: MeanSpread
    /// Wall-clock seconds for all items.
    public var wallSeconds: MeanSpread

    /// A row from its figures.
    public init(search: String, budget: Int, seeds: Int, accuracy: MeanSpread, passAt1: MeanSpread, passAtK: MeanSpread,
                majAtK: MeanSpread, tokensPerAnswer: MeanSpread, tokensScoredPerAnswer: MeanSpread,
                forwardPassesPerAnswer: MeanSpread, wallSeconds: MeanSpread) {
        self.search = search
        self.budget = budget
        self.seeds = seeds
        self.accuracy = accuracy
        self.passAt1 = passAt1
        self.passAtK = passAtK
        self.majAtK = majAtK
        self.tokensPerAnswer = tokensPerAnswer
        self.tokensScoredPerAnswer = tokensScoredPerAnswer
        self.forwardPassesPerAnswer = forwardPassesPerAnswer
        self.wallSeconds = wallSeconds
    }

    /// The CSV header `csv(_:)` writes.
    public static let csvHeader = "search,budget,seeds,accuracy_mean,accuracy_std,pass_at_1_mean,pass_at_1_std,pass_at_k_mean,pass_at_k_std," +
        "maj_at_k_mean,maj_at_k_std,tokens_per_answer_mean,tokens_per_answer_std,tokens_scored_per_answer_mean," +
        "forward_passes_per_answer_mean,wall_seconds_mean,wall_seconds_std"

    /// The rows as CSV (RFC 4180 quoting for the spec, which may hold commas).
    public static func csv(_ rows: [SweepRow]) -> String {
        var out = csvHeader + "\n"
        for r in rows {
            let quoted = "\"" + r.search.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            let figures = [r.accuracy.mean, r.accuracy.std, r.passAt1.mean, r.passAt1.std, r.passAtK.mean, r.passAtK.std,
                           r.majAtK.mean, r.majAtK.std, r.tokensPerAnswer.mean, r.tokensPerAnswer.std, r.tokensScoredPerAnswer.mean,
                           r.forwardPassesPerAnswer.mean, r.wallSeconds.mean, r.wallSeconds.std]
            out += ([quoted, String(r.budget), String(r.seeds)] + figures.map { String(format: "%.6g", $0) }).joined(separator: ",") + "\n"
        }
        return out
    }
}
