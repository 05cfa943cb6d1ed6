/// Running mean and standard deviation of one reward's scores, skipping completions it did not
/// score (nil), as TRL logs `rewards/<name>/mean` and `/std`.
public struct RewardStatistics: Equatable, Sendable {
    /// Completions scored (non-nil).
    public private(set) var count = 0
    /// Completions seen, scored or not.
    public private(set) var seen = 0
    private var mean_ = 0.0
    private var m2 = 0.0

    /// Empty statistics.
    public init() {}

    /// Adds one score (Welford's update, stable over long files).
    public mutating func add(_ score: Float?) {
        seen += 1
        guard let score else { return }
        count += 1
        let x = Double(score), delta = x - mean_
        mean_ += delta / Double(count)
        m2 += delta * (x - mean_)
    }

    /// Mean of the scored completions, nil when none was scored.
    public var mean: Double? { count > 0 ? mean_ : nil }

    /// Sample standard deviation (n − 1, like `torch.std`); 0 for a single score, nil for none.
    public var std: Double? {
        switch count {
        case 0: return nil
        case 1: return 0
        default: return (m2 / Double(count - 1)).squareRoot()
        }
    }
}
