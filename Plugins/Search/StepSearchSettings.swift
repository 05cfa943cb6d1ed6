import TemperCore

/// The settings every step-level strategy shares, with their parameter declarations.
struct StepSearchSettings {
    /// Most steps in a solution.
    let maxSteps: Int
    /// Most tokens in one step.
    let stepTokens: Int
    /// How step scores rank a path.
    let aggregation: StepAggregation
    /// Where a step ends when generating, unless the step scorer names its own separator.
    let separator: String

    /// `max_steps`, `step_tokens`, `agg_strategy`, `step_separator`.
    static let parameters: [ParameterSpec] = [
        .int("max_steps", default: 10, range: .atLeast(1), doc: "most steps in a solution"),
        .int("step_tokens", default: 256, range: .atLeast(1), doc: "most tokens in one step"),
        .choice("agg_strategy", StepAggregation.allCases.map(\.rawValue), default: "last",
                doc: "how a path's step scores rank it: the last step's, the minimum, or the product"),
        .string("step_separator", default: "\n\n",
                doc: "text that ends a step when generating (a step scorer with its own separator overrides it)"),
    ]

    init(config: ComponentConfig, strategy: String) throws {
        maxSteps = try config.int("max_steps")
        stepTokens = try config.int("step_tokens")
        let agg = try config.string("agg_strategy")
        guard let a = StepAggregation(rawValue: agg) else { throw SpecError("\(strategy): unknown agg_strategy '\(agg)'") }
        aggregation = a
        separator = try config.string("step_separator")
        guard !separator.isEmpty else { throw SpecError("\(strategy): step_separator must not be empty") }
    }
}
