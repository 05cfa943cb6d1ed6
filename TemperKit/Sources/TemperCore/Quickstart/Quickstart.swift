import Foundation

/// `temper quickstart`: Temper's whole fine-tuning path on a model small enough to train in
/// minutes on two cores, with nothing to download.
///
/// It builds a tiny Llama (the same architecture as SmolLM2) over a character tokenizer with a
/// ChatML template, writes a synthetic addition task as chat JSONL, measures held-out exact-match
/// accuracy with greedy decoding, trains with the `sft` objective through the ordinary
/// `TrainingSession` (plugins, recipe fields, checkpoints, metrics.jsonl), and measures again.
public struct Quickstart {
    /// What to build and how long to train.
    public struct Settings {
        /// Where data, checkpoints and metrics go.
        public var outputDir = "runs/quickstart"
        /// Operand digits.
        public var digits = 2
        /// Training problems.
        public var trainCount = 4000
        /// Held-out problems.
        public var heldOutCount = 200
        /// Optimizer steps.
        public var maxSteps = 1000
        /// Sequences per step.
        public var batchSize = 32
        /// Peak learning rate (AdamW, cosine schedule with warmup).
        public var learningRate = 3e-3
        /// Model width and depth.
        public var hiddenSize = 96, layers = 3, heads = 4
        /// Seed of the model, the data and the run.
        public var seed = 0

        /// The defaults.
        public init() {}
    }

    /// The outcome.
    public struct Result {
        /// Held-out exact-match accuracy before and after training.
        public var accuracyBefore: Double, accuracyAfter: Double
        /// The training run.
        public var summary: TrainingSummary
        /// A few held-out problems with the trained model's answers.
        public var examples: [(question: String, expected: String, got: String)]
    }

    /// The settings.
    public let settings: Settings

    /// A quickstart with `settings`.
    public init(settings: Settings = Settings()) { self.settings = settings }

    /// Runs the quickstart; `say` receives the narrative lines (progress goes to `reporter`).
    public func run(registry: ComponentRegistry = .shared, reporter: ProgressReporter? = ProgressReporter(),
                    say: (String) -> Void) throws -> Result {
        let s = settings
        let out = URL(fileURLWithPath: s.outputDir)
        let tokenizerDefinition = CharacterChatTokenizer.definition()
        let tokenizer = try Tokenizer(tokenizerDefinition)
        let config = ModelConfig(vocabSize: tokenizer.vocabularySize, hiddenSize: s.hiddenSize, intermediateSize: s.hiddenSize * 8 / 3,
                                 numHiddenLayers: s.layers, numAttentionHeads: s.heads, maxPositionEmbeddings: 256,
                                 eosTokenIds: tokenizer.eosTokenID.map { [Int($0)] } ?? [])
        let model = try LlamaModel(config: config, seed: UInt64(s.seed))
        say("model: Llama, \(s.layers) layers, hidden \(s.hiddenSize), vocabulary \(tokenizer.vocabularySize) (characters and 2 ChatML markers), " +
            "\(model.parameterCount) parameters")

        let task = try AdditionTask(digits: s.digits, trainCount: s.trainCount, heldOutCount: s.heldOutCount, seed: UInt64(s.seed))
        let trainFile = out.appendingPathComponent("data/train.jsonl"), evalFile = out.appendingPathComponent("data/heldout.jsonl")
        try AdditionTask.write(task.train, to: trainFile)
        try AdditionTask.write(task.heldOut, to: evalFile)
        say("task: \(s.digits)-digit addition as a chat, e.g. user \"\(task.train[0].question)\" → assistant \"\(task.train[0].answer)\"; " +
            "\(task.train.count) training problems, \(task.heldOut.count) held out (written to \(trainFile.deletingLastPathComponent().path))")

        let before = try AdditionTask.accuracy(of: model, tokenizer: tokenizer, on: task.heldOut)
        say(String(format: "held-out exact match before training: %.1f%%", 100 * before.accuracy))

        var recipe = TrainingRecipe()
        let fields: [(String, String)] = [
            ("train_file", trainFile.path), ("eval_file", evalFile.path), ("output_dir", out.path),
            ("objective", "sft"), ("peft", "full"), ("optimizer", "adamw:weight_decay=0.01"),
            ("learning_rate", String(s.learningRate)), ("lr_scheduler_type", "cosine"), ("warmup_ratio", "0.05"),
            ("per_device_train_batch_size", String(s.batchSize)), ("max_steps", String(s.maxSteps)),
            ("logging_steps", String(max(1, s.maxSteps / 20))), ("eval_steps", String(max(1, s.maxSteps / 4))),
            ("save_steps", String(max(1, s.maxSteps / 2))), ("save_total_limit", "2"),
            ("assistant_only_loss", "true"), ("max_length", "64"), ("seed", String(s.seed)),
        ]
        for (k, v) in fields { try recipe.set(k, .text(v)) }
        let session = try TrainingSession(recipe: recipe, pretrained: PretrainedModel(model: model, tokenizer: tokenizer, source: out),
                                          registry: registry, reporter: reporter)
        say("training: sft, full fine-tuning (\(session.parameterCount)), adamw lr \(s.learningRate), cosine schedule, " +
            "\(s.maxSteps) steps of \(s.batchSize) chats")
        let summary = try session.trainer.train()

        let after = try AdditionTask.accuracy(of: model, tokenizer: tokenizer, on: task.heldOut)
        say(String(format: "held-out exact match after training: %.1f%% (before: %.1f%%)", 100 * after.accuracy, 100 * before.accuracy))
        let modelFolder = out.appendingPathComponent("model")
        try QuickstartModelFolder.write(model, tokenizer: tokenizerDefinition, to: modelFolder)
        say("trained model saved to \(modelFolder.path) (load it with --model in temper generate, search or eval)")
        let examples = (0..<min(5, task.heldOut.count)).map { (task.heldOut[$0].question, task.heldOut[$0].answer, after.completions[$0]) }
        return Result(accuracyBefore: before.accuracy, accuracyAfter: after.accuracy, summary: summary, examples: examples)
    }
}
