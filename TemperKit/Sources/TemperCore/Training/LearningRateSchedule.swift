import Foundation

/// The learning rate at each optimizer step, as Hugging Face's `get_scheduler` computes it.
///
/// `multiplier(step:)` is the factor of the peak rate used for 0-based optimizer step `step`
/// (so with warmup the first step runs at rate 0, as in Transformers). Warmup is linear from 0
/// over `warmupSteps`; after it:
/// - constant: 1 (Transformers' `constant` has no warmup; use `constant_with_warmup` for one)
/// - linear: (T − s) / (T − W), down to 0 at the last step
/// - cosine: ½(1 + cos(π·p)) with progress p = (s − W) / (T − W)
/// - cosine_with_min_lr: the cosine factor rescaled to [min_lr_rate, 1]
public struct LearningRateSchedule: Codable, Equatable {
    /// Schedule names, as in Transformers' `SchedulerType`.
    public enum Kind: String, Codable, CaseIterable {
        case constant
        case constantWithWarmup = "constant_with_warmup"
        case linear
        case cosine
        case cosineWithMinLR = "cosine_with_min_lr"
    }

    /// Which schedule.
    public var kind: Kind
    /// The peak learning rate.
    public var peak: Double
    /// Optimizer steps in the whole run (T).
    public var totalSteps: Int
    /// Linear warmup steps (W).
    public var warmupSteps: Int
    /// Floor of `cosine_with_min_lr`, as a fraction of `peak`.
    public var minLRRate: Double

    /// A schedule; `warmupSteps` is `warmup_steps` when positive, else ⌈warmup_ratio · T⌉ (Transformers' rule).
    public init(kind: Kind, peak: Double, totalSteps: Int, warmupSteps: Int = 0, warmupRatio: Double = 0, minLRRate: Double = 0) {
        self.kind = kind
        self.peak = peak
        self.totalSteps = totalSteps
        self.warmupSteps = warmupSteps > 0 ? warmupSteps : Int((Double(totalSteps) * warmupRatio).rounded(.up))
        self.minLRRate = minLRRate
    }

    /// The factor of `peak` for 0-based step `step`.
    public func multiplier(step: Int) -> Double {
        let s = Double(step), w = Double(warmupSteps), t = Double(totalSteps)
        if kind == .constant { return 1 }
        if step < warmupSteps { return s / max(1, w) }
        let progress = (s - w) / max(1, t - w)
        switch kind {
        case .constant, .constantWithWarmup: return 1
        case .linear: return max(0, (t - s) / max(1, t - w))
        case .cosine: return max(0, 0.5 * (1 + cos(Double.pi * progress)))
        case .cosineWithMinLR:
            let cosine = 0.5 * (1 + cos(Double.pi * progress))
            return max(0, cosine * (1 - minLRRate) + minLRRate)
        }
    }

    /// The settings as a recipe would spell them, for messages (e.g. a resume that changed them).
    public var summary: String {
        var parts = ["lr_scheduler_type \(kind.rawValue)", "learning_rate \(Float(peak))", "\(totalSteps) steps", "warmup_steps \(warmupSteps)"]
        if kind == .cosineWithMinLR { parts.append("min_lr_rate \(minLRRate)") }
        return "(" + parts.joined(separator: ", ") + ")"
    }

    /// The learning rate for 0-based step `step`.
    public func learningRate(step: Int) -> Double { peak * multiplier(step: step) }
}
