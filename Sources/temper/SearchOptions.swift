import ArgumentParser
import Foundation
import TemperCore

/// What `temper search` and `temper eval` share: the model (with an optional adapter), the rewards
/// that verify and grade, how prompts are rendered, and the sampling settings of every search
/// (`generate`'s flags: --temperature defaults to 0 there and here, so give it for sampling).
struct SearchOptions: ParsableArguments {
    @Option(help: "A .gguf file or a Hugging Face model directory.")
    var model: String
    @Option(help: "A PEFT adapter folder to apply (a `temper train` output_dir, or PEFT's own).")
    var adapter: String?
    @Option(name: .customLong("reward"), help: "Reward spec that verifies candidates, e.g. math-equiv (repeatable: a weighted sum).")
    var rewards: [String] = []
    @Flag(name: .customLong("chat"), inversion: .prefixedNo,
          help: "Render a string prompt as a user message with the model's chat template (message lists always are).")
    var chat = true
    @Option(name: .customLong("step-scorer"),
            help: "What scores the steps of partial solutions for step-level strategies (beam, dvts, lookahead, mcts): none, self-evaluation (the model's p(Yes) that the last step is correct) or rollout (4 rollouts graded by --reward).")
    var stepScorerName = "none"
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var plugins: PluginOptions

    /// The sampling settings, checked against the model's vocabulary (the handle stops at its
    /// end-of-turn tokens itself). A temperature of 0 with several samples is a warning: every
    /// sample would be the same.
    func generation(for handle: PretrainedModelHandle, samples: Int) throws -> GenerationOptions {
        if sampling.temperature == 0, samples > 1 {
            FileHandle.standardError.write(Data(("warning: --temperature 0 makes all \(samples) samples of a prompt the same; " +
                                                 "strategies that sample several want e.g. --temperature 0.8\n").utf8))
        }
        return try sampling.options(stopTokens: [], vocabSize: handle.pretrained.model.config.vocabSize)
    }

    /// The rewards as one verifier (nil without `--reward`); spec errors become command errors.
    func verifier() throws -> RewardSum? {
        guard !rewards.isEmpty else { return nil }
        return try Self.rewardSum(rewards)
    }

    /// Reward specs as one weighted sum; spec errors become command errors.
    static func rewardSum(_ specs: [String]) throws -> RewardSum {
        do { return RewardSum(try specs.map { try ComponentRegistry.shared.reward($0) }) } catch let e as SpecError {
            throw CommandError(description: e.message)
        }
    }

    /// The step scorer `--step-scorer` names, over `handle` (steps end at a blank line); nil for `none`.
    /// `verifierFlag` names the option a rollout scorer's reward comes from, for its message.
    func stepScorer(_ handle: any LanguageModelHandle, verifier: (any RewardScoring)?, generation: GenerationOptions,
                    verifierFlag: String = "--reward") throws -> (any StepScoring)? {
        switch stepScorerName {
        case "none": return nil
        case "self-evaluation": return SelfEvaluationStepScorer(model: handle)
        case "rollout":
            guard let verifier else { throw CommandError(description: "--step-scorer rollout grades its rollouts with \(verifierFlag): give one") }
            return try RolloutStepScorer(model: handle, reward: verifier, options: generation)
        default:
            throw CommandError(description: "--step-scorer must be none, self-evaluation or rollout, got '\(stepScorerName)'")
        }
    }

    /// The model behind the handle strategies search with.
    func loadModel() throws -> PretrainedModelHandle {
        do {
            return try PretrainedModelHandle.load(model: URL(fileURLWithPath: model), adapter: adapter.map { URL(fileURLWithPath: $0) })
        } catch {
            throw CommandError(description: "cannot load model: \(error)")
        }
    }

    /// The prompt text of `prompt` as the model reads it.
    func render(_ prompt: PromptFile.Prompt, with handle: any LanguageModelHandle) throws -> String {
        switch prompt {
        case .text(let text): return chat ? try handle.renderChat([ChatMessage(role: "user", content: text)]) : text
        case .messages(let messages): return try handle.renderChat(messages)
        }
    }

    /// Reads a prompt file, its errors as command errors.
    static func readPrompts(_ path: String) throws -> PromptFile {
        do { return try PromptFile(path: path) } catch let e as TrainingDataError {
            throw CommandError(description: e.description)
        }
    }
}
