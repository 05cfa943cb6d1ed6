/// The reward-hacking probe: beside the reward a policy is trained on (the proxy), the task's exact
/// checker (the gold verifier) scores every rollout and is logged as `gold_reward`, never trained
/// on. A proxy that rises while gold falls is the policy exploiting the proxy (Gao et al. 2023,
/// "Scaling Laws for Reward Model Overoptimization"; Skalse et al. 2022 on reward hacking).
public enum GoldReward {
    /// Metrics key of the mean gold score of a generation round's rollouts.
    public static let metricKey = "gold_reward"

    /// The gold verifier of a run: `spec` when given (`none` turns it off); otherwise `exact-match`
    /// against the `answer` column when the prompts have one and the reward is loaded; else none.
    public static func resolve(spec: String?, promptColumns: [String], registry: ComponentRegistry) throws -> WeightedReward? {
        if let spec {
            if spec.lowercased() == "none" { return nil }
            do { return try registry.reward(spec) } catch let e as SpecError { throw SpecError("recipe: gold_reward: \(e.message)") }
        }
        guard promptColumns.contains("answer"), registry.descriptor(named: "exact-match")?.kind == .reward else { return nil }
        return try registry.reward("exact-match")
    }

    /// The mean of the scores the verifier gave (nil scores — rows it cannot judge — left out);
    /// nil when it judged none.
    public static func mean(_ scores: [Float?]) -> Double? {
        let judged = scores.compactMap { $0 }
        return judged.isEmpty ? nil : judged.reduce(0.0) { $0 + Double($1) } / Double(judged.count)
    }
}
