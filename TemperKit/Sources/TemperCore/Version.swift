/// Temper's release, printed by `temper --version`.
public enum TemperVersion {
    /// Semantic version of this source tree.
    public static let string = "0.1.0"
}
