import Foundation

extension Quickstart {
    /// The pipeline's stages after the base model's evaluation, in order.
    public enum Stage: String, CaseIterable, Sendable {
        /// Supervised fine-tuning on worked solutions.
        case sft
        /// GRPO with the task's own reward (reinforcement learning with a verifiable reward).
        case grpo
        /// Test-time search at every evaluation: maj@N (self-consistency) and best-of-N with the verifier.
        case search
    }

    /// Every setting, checked like a component's parameters (one wording for recipe fields and
    /// flags); names follow `temper train`'s where they mean the same. The defaults are `Settings()`'s.
    public static let parameters: [ParameterSpec] = { let d = Settings(); return [
        .string("output_dir", default: d.outputDir, doc: "where the data, every stage's run folder and quickstart.json go"),
        .string("model", default: "", doc: "a GGUF file or Hugging Face folder to run the pipeline on (full fine-tuning); empty = the built-in tiny Llama"),
        .string("task", default: d.task, doc: "built-in verifiable task and its options (temper data tasks), graded by the task's reward"),
        .list("stages", of: .string, default: d.stages.map { .string($0.rawValue) }, doc: "stages to run after the base evaluation: sft, grpo, search"),
        .int("seeds", default: d.seeds, range: .atLeast(1), doc: "pipeline runs, seeds 0…N−1 (model initialisation, data order, sampling)"),
        .int("train_problems", default: d.trainProblems, range: .atLeast(1), doc: "training problems: SFT chats with worked solutions, and GRPO's prompts"),
        .int("held_out", default: d.heldOut, range: .atLeast(1), doc: "held-out problems every evaluation reads (disjoint from the training problems)"),
        .float("flawed_demonstrations", default: d.flawedDemonstrations, range: .closed(0, 1),
               doc: "share of the SFT demonstrations given the task's typical slip (long-addition: the final carry dropped) among those that can have it (a task without a slip keeps correct ones); GRPO and every evaluation grade the true answer"),
        .int("sft_steps", default: d.sftSteps, range: .atLeast(1), doc: "SFT optimizer steps"),
        .int("sft_batch_size", default: d.sftBatchSize, range: .atLeast(1), doc: "SFT chats per step"),
        .float("sft_learning_rate", default: d.sftLearningRate, range: .greaterThan(0), doc: "SFT peak learning rate (AdamW, cosine schedule)"),
        .int("max_length", default: d.maxLength, range: .atLeast(1), doc: "SFT: truncate tokenized chats to this many tokens"),
        .int("grpo_steps", default: d.grpoSteps, range: .atLeast(1), doc: "GRPO optimizer steps"),
        .int("prompts_per_step", default: d.promptsPerStep, range: .atLeast(1), doc: "GRPO prompts per step"),
        .int("num_generations", default: d.numGenerations, range: .atLeast(2), doc: "GRPO completions per prompt (the group size)"),
        .float("grpo_learning_rate", default: d.grpoLearningRate, range: .greaterThan(0), doc: "GRPO learning rate (AdamW, constant)"),
        .float("temperature", default: d.temperature, range: .greaterThan(0), doc: "sampling temperature of GRPO's rollouts and of the searches' samples"),
        .int("search_samples", default: d.searchSamples, range: .atLeast(2), doc: "N of maj@N and best-of-N"),
        .int("max_new_tokens", default: d.maxNewTokens, range: .atLeast(1), doc: "most tokens per answer, in evaluation and in GRPO's rollouts"),
        .int("max_steps", default: -1, range: .atLeast(-1), doc: "cap on every training stage's steps (tests, CI); -1 = no cap"),
        .bool("hack", default: d.hack, doc: "also train GRPO on a gameable proxy reward (seed 0, from the SFT model) and show proxy against gold reward"),
        .string("hack_proxy", default: d.hackProxy, doc: "the proxy reward of --hack: shorter answers score higher, right or wrong"),
        .int("hack_steps", default: d.hackSteps, range: .atLeast(1), doc: "GRPO steps of the --hack run"),
        .int("hidden_size", default: d.hiddenSize, range: .atLeast(8), doc: "built-in model: width"),
        .int("layers", default: d.layers, range: .atLeast(1), doc: "built-in model: decoder layers"),
        .int("heads", default: d.heads, range: .atLeast(1), doc: "built-in model: attention heads (must divide hidden_size)"),
    ] }()

    /// What to build, train and measure.
    public struct Settings {
        /// Where everything goes.
        public var outputDir = "runs/quickstart"
        /// A model file or folder; nil: the built-in tiny Llama over a character tokenizer.
        public var model: String?
        /// The task's spec. Three digits, not two: on two digits 500 SFT steps take the tiny model to
        /// 97 % pass@1 (nothing left for RL or search) and 250 leave it mid-descent (loss 0.17, 37–57 %)
        /// with samples at T 0.4 right only half as often as greedy, so maj@8 loses to greedy; on three
        /// digits 500 steps end with SFT's loss at 0.01–0.03 and pass@1 at 64–99 % (seeds 0–2), the
        /// samples about as often right as greedy.
        public var task = "long-addition:digits=3"
        /// Stages after the base evaluation.
        public var stages: [Stage] = Stage.allCases
        /// Seeds 0…seeds−1.
        public var seeds = 3
        /// Training and held-out problem counts.
        public var trainProblems = 2000, heldOut = 100
        /// Share of SFT's demonstrations with the task's slip (`FlawedDemonstrations`; on
        /// long-addition the carry out of the top column dropped, so the stated sum is wrong). With
        /// correct demonstrations SFT's remaining errors are systematic copying slips that repeat
        /// across samples, GRPO has little reward spread to learn from and moved pass@1 by +5 / +3 /
        /// −5 points (seeds 0–2), within the noise. With 60 % of the carry-out demonstrations
        /// flawed, SFT learns the slip as the likelier path (greedy drops the carry) while samples
        /// at temperature 0.4 still write it often enough to give groups a reward spread: the
        /// verifier carries information SFT lacks, and GRPO corrects it on every seed (README).
        public var flawedDemonstrations = 0.6
        /// SFT: steps, chats per step, peak learning rate, token cap. 500 steps: GRPO cannot beat an
        /// SFT run cut short (continuing SFT gains far more per step than RL's 64 graded samples).
        public var sftSteps = 500, sftBatchSize = 32, sftLearningRate = 3e-3, maxLength = 128
        /// GRPO: steps, prompts per step, group size, learning rate (full fine-tuning). From the
        /// flawed SFT model (seed 0, 44 % pass@1) 30 steps at 2e-5 or 5e-5 reached 58 %, 60 steps at
        /// 5e-5 63 %, 90 steps 64 %; on correct demonstrations 1e-4 lowered pass@1 (64 → 43 %).
        public var grpoSteps = 60, promptsPerStep = 8, numGenerations = 8, grpoLearningRate = 5e-5
        /// Sampling temperature of rollouts and searches.
        public var temperature = 0.4
        /// N of maj@N and best-of-N.
        public var searchSamples = 8
        /// Most tokens per answer.
        public var maxNewTokens = 64
        /// Cap on every training stage's steps; nil: none.
        public var maxSteps: Int?
        /// The reward-hacking demonstration, its proxy reward and its steps.
        public var hack = false, hackProxy = "length:correct_reward=none,max_len=64", hackSteps = 30
        /// The built-in model's shape.
        public var hiddenSize = 96, layers = 3, heads = 4

        /// The defaults.
        public init() {}

        /// The settings of a validated configuration (`Quickstart.parameters`).
        public init(config c: ComponentConfig) throws {
            outputDir = try c.string("output_dir")
            let modelPath = try c.string("model")
            model = modelPath.isEmpty ? nil : modelPath
            task = try c.string("task")
            stages = try c.strings("stages").map { name in
                guard let stage = Stage(rawValue: name) else {
                    throw SpecError("quickstart: stages: unknown stage '\(name)' (stages: \(Stage.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                return stage
            }
            seeds = try c.int("seeds")
            trainProblems = try c.int("train_problems")
            heldOut = try c.int("held_out")
            flawedDemonstrations = try c.double("flawed_demonstrations")
            sftSteps = try c.int("sft_steps")
            sftBatchSize = try c.int("sft_batch_size")
            sftLearningRate = try c.double("sft_learning_rate")
            maxLength = try c.int("max_length")
            grpoSteps = try c.int("grpo_steps")
            promptsPerStep = try c.int("prompts_per_step")
            numGenerations = try c.int("num_generations")
            grpoLearningRate = try c.double("grpo_learning_rate")
            temperature = try c.double("temperature")
            searchSamples = try c.int("search_samples")
            maxNewTokens = try c.int("max_new_tokens")
            let cap = try c.int("max_steps")
            maxSteps = cap < 0 ? nil : cap
            hack = try c.bool("hack")
            hackProxy = try c.string("hack_proxy")
            hackSteps = try c.int("hack_steps")
            hiddenSize = try c.int("hidden_size")
            layers = try c.int("layers")
            heads = try c.int("heads")
        }

        /// `steps` under the `maxSteps` cap.
        func capped(_ steps: Int) -> Int { min(steps, maxSteps ?? steps) }
    }
}
