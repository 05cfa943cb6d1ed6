import Foundation
import TemperCore

/// A trained process reward model as a reward function: the `LlamaForTokenClassification` folder a
/// `prm` run writes scores each step of a completion (`ProcessRewardStepScorer`: the completion cut
/// at `step_separator`, P(correct) at each step's end), and the steps' scores are combined into one
/// (Lightman et al.: `prod`; `min`, the weakest step, is the usual verifier score; `last`, the final
/// step's).
public final class ProcessReward: RewardFunction {
    /// Registered name.
    public static let name = "process-reward"
    /// One-line summary for `temper plugins`.
    public static let summary = "scores a completion's steps with a trained process reward model (what --objective prm writes) and combines them: min, prod or last"
    /// The folder, the separator and how step scores combine.
    public static let parameters: [ParameterSpec] = [
        .string("path", default: nil, doc: "folder of the process reward model (config.json, model.safetensors, tokenizer.json)"),
        .string("step_separator", default: "\n", doc: "what ends each step, as in the PRM's training data"),
        .choice("aggregation", ["min", "prod", "last"], default: "min", doc: "how the steps' P(correct) become one score"),
    ]

    let scorer: ProcessRewardStepScorer
    let aggregation: String

    /// Loads the model the `path` names.
    public init(config: ComponentConfig) throws {
        do {
            scorer = try ProcessRewardStepScorer(directory: URL(fileURLWithPath: try config.string("path")), separator: try config.string("step_separator"))
        } catch let e as SpecError {
            throw SpecError("process-reward: \(e.message)")
        }
        aggregation = try config.string("aggregation")
    }

    /// One combined score per completion; nil for a completion with no step.
    public func score(_ batch: RewardBatch) throws -> [Float?] {
        try batch.validate()
        let solutions = try zip(batch.prompts, batch.completions).map { prompt, completion in
            PartialSolution(prompt: prompt, steps: try scorer.segmentation.split(completion).filter {
                !$0.trimmingCharacters(in: .whitespaces).isEmpty
            })
        }
        return try scorer.scoreSteps(solutions).map { s in
            guard let last = s.last else { return nil }
            switch aggregation {
            case "prod": return s.reduce(1, *)
            case "last": return last
            default: return s.min()
            }
        }
    }
}
