import Foundation

/// One fine-tuning run assembled from a recipe: the model, the components the recipe names
/// (objective, PEFT method, optimizer, resolved through the plugin registry), the data and the
/// trainer; then the run and its final outputs. `temper train` and `temper quickstart` both go
/// through it.
public final class TrainingSession {
    /// The settings.
    public let recipe: TrainingRecipe
    /// The model and tokenizer being trained.
    public let pretrained: PretrainedModel
    /// The PEFT method installed on the model.
    public let peft: any PEFTMethod
    /// Trainable / total parameter counts after the PEFT method was applied.
    public let parameterCount: ParameterCount
    /// The trainer.
    public let trainer: Trainer

    /// Builds everything from `recipe`, loading the model it names. Under several ranks
    /// (`communicator`, e.g. `MPICommunicator.fromEnvironment()`), every rank builds the same session.
    public convenience init(recipe: TrainingRecipe, registry: ComponentRegistry = .shared, reporter: ProgressReporter? = nil,
                            communicator: any Communicator = SingleProcess()) throws {
        try recipe.validate()
        guard let path = recipe.string("model") else { throw SpecError("recipe: model is not set (a GGUF file or a Hugging Face model folder; --model PATH)") }
        let keep: WeightQuantization = try recipe.bool("keep_quantized") ? .keepGGUFBlocks : .none
        let quantization = WeightQuantization.loadIn(recipe.string("load_in") ?? "none") ?? keep
        try self.init(recipe: recipe, pretrained: try PretrainedModel.load(from: URL(fileURLWithPath: path), quantization: quantization),
                      registry: registry, reporter: reporter, communicator: communicator)
    }

    /// Builds everything from `recipe` around an already loaded model.
    public init(recipe: TrainingRecipe, pretrained: PretrainedModel, registry: ComponentRegistry = .shared, reporter: ProgressReporter? = nil,
                communicator: any Communicator = SingleProcess()) throws {
        try recipe.validate()
        self.recipe = recipe
        self.pretrained = pretrained
        guard let trainPath = recipe.string("train_file") else { throw SpecError("recipe: train_file is not set (--data train.jsonl)") }
        let objective = try registry.make(recipe.objective, kind: .objective, as: (any Objective).self)
        let optimizer = try registry.make(try Self.optimizerSpec(recipe, registry: registry), kind: .optimizer, as: (any Optimizer).self)
        peft = try registry.make(recipe.peft ?? ComponentSpec(name: "full"), kind: .peft, as: (any PEFTMethod).self)
        parameterCount = try peft.apply(to: pretrained.model)
        if try recipe.bool("gradient_checkpointing") {
            // Dropout inside a recomputed layer replays its masks (`TrainingMode.withDropoutState`).
            let layers = pretrained.model.layers.count
            let wanted = recipe.isSet("gradient_checkpointing_layers") ? try recipe.int("gradient_checkpointing_layers") : layers
            pretrained.model.checkpointedLayers = min(wanted, layers)
        }
        // HF's bf16: the training run's packed matrix products in bfloat16, accumulated in float32.
        let precision: GEMMPrecision = try recipe.bool("bf16") ? .bf16 : .float32
        if precision == .bf16 && !GEMMPrecision.bf16Supported { throw SpecError("recipe: bf16: \(GEMMPrecision.UnavailablePrecision())") }

        let tokenizer = pretrained.tokenizer
        let skip = try recipe.bool("skip_invalid_rows")
        let pad = tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0
        let config = try TrainerConfig(recipe: recipe)
        let precompute = try recipe.bool("precompute_ref_log_probs")
        if precompute && !objective.needsReference {
            throw SpecError("recipe: precompute_ref_log_probs is set but objective '\(recipe.objective.name)' uses no reference model")
        }
        let own = try objective.makeParameters(for: ObjectiveModelInfo(hiddenSize: pretrained.model.config.hiddenSize,
                                                                      vocabSize: pretrained.model.config.vocabSize, seed: UInt64(config.seed)))
        let groups = peft.trainableGroups() + (own.isEmpty ? [] : [ParameterGroup(name: "objective", parameters: own)])
        if objective.inputKind == .rollouts {
            guard !precompute else {
                throw SpecError("recipe: precompute_ref_log_probs applies to objectives trained on a dataset; '\(recipe.objective.name)' samples its own completions")
            }
            trainer = try Self.onPolicyTrainer(recipe: recipe, objective: objective, optimizer: optimizer, groups: groups, pretrained: pretrained,
                                               trainPath: trainPath, config: config, padID: pad, registry: registry, reporter: reporter,
                                               communicator: communicator)
        } else {
            if recipe.isSet("gold_reward") {
                throw SpecError("recipe: gold_reward is set, but objective '\(recipe.objective.name)' trains on a dataset, not on scored samples; " +
                                "gold_reward applies to on-policy objectives (grpo, rloo, ...)")
            }
            let options = EncodingOptions(completionOnlyLoss: try recipe.bool("completion_only_loss"),
                                          assistantOnlyLoss: try recipe.bool("assistant_only_loss"),
                                          maxLength: try recipe.int("max_length"),
                                          truncationMode: TruncationMode(rawValue: recipe.string("truncation_mode") ?? "") ?? .keepStart,
                                          maxPromptLength: recipe.isSet("max_prompt_length") ? try recipe.int("max_prompt_length") : nil,
                                          stepSeparator: recipe.string("step_separator") ?? "\n")
            let encoder = ExampleEncoder(tokenizer: tokenizer, options: options)
            var train = try TokenizedDataset.load(path: trainPath, encoder: encoder, skipInvalidRows: skip, packing: try recipe.bool("packing"))
            var eval = try recipe.string("eval_file").map { try TokenizedDataset.load(path: $0, encoder: encoder, skipInvalidRows: skip) }
            for ds in [train] + (eval.map { [$0] } ?? []) where ds.skippedRows > 0 || ds.emptyRows > 0 {
                reporter?.message("\(ds.file): skipped \(ds.skippedRows) malformed rows and \(ds.emptyRows) rows without target tokens")
            }
            if precompute {
                let reference = { try Self.reference(of: pretrained.model) }
                train = try ReferenceLogProbCache.attach(to: train, reference: reference, padID: pad, batchSize: config.perDeviceTrainBatchSize,
                                                         file: ReferenceLogProbCache.file("train", in: config.outputDir), reporter: reporter)
                eval = try eval.map { try ReferenceLogProbCache.attach(to: $0, reference: reference, padID: pad, batchSize: config.perDeviceTrainBatchSize,
                                                                       file: ReferenceLogProbCache.file("eval", in: config.outputDir), reporter: reporter) }
            }
            trainer = try Trainer(policy: pretrained.model, objective: objective, optimizer: optimizer, groups: groups,
                                  trainData: train, evalData: eval, padID: pad, config: config, communicator: communicator)
        }
        trainer.reporter = reporter
        trainer.precision = precision
        trainer.generalText = try GeneralPerplexity.from(recipe: recipe, tokenizer: tokenizer, contextLength: pretrained.model.config.maxPositionEmbeddings)
        if objective.needsReference && recipe.string("teacher_model") == nil && !precompute {
            trainer.reference = try Self.reference(of: pretrained.model)
        }
        if let teacherPath = recipe.string("teacher_model") {
            let teacher = try PretrainedModel.load(from: URL(fileURLWithPath: teacherPath))
            guard teacher.tokenizer.vocabularySize == tokenizer.vocabularySize else {
                throw SpecError("recipe: teacher_model \(teacherPath) has a vocabulary of \(teacher.tokenizer.vocabularySize) tokens, " +
                                "the model's has \(tokenizer.vocabularySize); the teacher must share the student's tokenizer")
            }
            trainer.reference = teacher.model
        }
    }

    /// The trainer of an objective that trains on rollouts: prompts from `trainPath`, the recipe's
    /// rewards (weighted by `reward_weights` when set, else by each spec's `weight=`), and the
    /// sampling settings, feeding a `RolloutLoop` over the model itself.
    static func onPolicyTrainer(recipe: TrainingRecipe, objective: any Objective, optimizer: any Optimizer, groups: [ParameterGroup],
                                pretrained: PretrainedModel, trainPath: String, config: TrainerConfig, padID: Int32,
                                registry: ComponentRegistry, reporter: ProgressReporter?, communicator: any Communicator) throws -> Trainer {
        let name = type(of: objective).name
        if recipe.string("eval_file") != nil {
            throw SpecError("recipe: eval_file is set, but objective '\(name)' trains on its own samples and evaluates no dataset; " +
                            "score the saved adapter with temper generate / temper reward instead")
        }
        guard !recipe.rewards.isEmpty else {
            throw SpecError("recipe: objective '\(name)' trains on rollouts and needs at least one reward (--reward SPEC, e.g. --reward math-equiv)")
        }
        let settings = try RolloutSettings(recipe: recipe)
        let prompts = try PromptDataset.load(path: trainPath, tokenizer: pretrained.tokenizer, maxPromptLength: settings.maxPromptLength,
                                             skipInvalidRows: try recipe.bool("skip_invalid_rows"))
        if prompts.skippedRows > 0 { reporter?.message("\(trainPath): skipped \(prompts.skippedRows) malformed rows") }
        if prompts.truncatedPrompts > 0 {
            reporter?.message("\(trainPath): \(prompts.truncatedPrompts) prompts cut to their last \(settings.maxPromptLength ?? 0) tokens (max_prompt_length)")
        }
        var rewards = try recipe.rewards.map { try registry.reward($0) }
        if case .list(let weights)? = recipe.values["reward_weights"] {
            for (i, w) in weights.enumerated() {
                switch w {
                case .float(let v): rewards[i].weight = Float(v)
                case .int(let v): rewards[i].weight = Float(v)
                default: throw SpecError("recipe: reward_weights[\(i)] is \(w), not a number")
                }
            }
        }
        let loop = try RolloutLoop(model: pretrained.model, tokenizer: pretrained.tokenizer, prompts: prompts, rewards: rewards, settings: settings,
                                   microBatchSize: config.perDeviceTrainBatchSize, gradientAccumulationSteps: config.gradientAccumulationSteps,
                                   seed: config.seed, padID: padID, communicator: communicator)
        loop.goldReward = try GoldReward.resolve(spec: recipe.string("gold_reward"), promptColumns: prompts.columnNames, registry: registry)
        return try Trainer(policy: pretrained.model, objective: objective, optimizer: optimizer, groups: groups, rollouts: loop,
                           padID: padID, config: config, communicator: communicator)
    }

    /// The frozen policy before training, without a second copy where possible: under a PEFT method
    /// (adapters, virtual tokens or prefixes installed) the base model with them switched off;
    /// under full fine-tuning, where every base weight moves, a frozen copy of the weights.
    public static func reference(of model: LlamaModel) throws -> any TrainableLanguageModel {
        model.hasAdapters ? AdapterDisabledReference(model) : try model.frozenCopy()
    }

    /// The optimizer spec with the recipe's `learning_rate` and `weight_decay` put in place of the
    /// spec's own (the recipe's fields win, as Transformers' arguments do).
    static func optimizerSpec(_ recipe: TrainingRecipe, registry: ComponentRegistry) throws -> ComponentSpec {
        var spec = recipe.optimizer
        let (descriptor, _) = try registry.resolve(spec, kind: .optimizer)
        func override(_ field: String, _ names: [String]) throws {
            guard recipe.isSet(field) else { return }
            guard let p = descriptor.parameters.first(where: { !Set($0.allNames).isDisjoint(with: names) }) else {
                throw SpecError("recipe: \(field) is set but optimizer '\(spec.name)' has no such setting")
            }
            spec.settings.removeAll { p.allNames.contains($0.key) }
            spec.settings.append((p.name, .text(String(try recipe.double(field)))))
        }
        try override("learning_rate", ["lr", "learning_rate"])
        try override("weight_decay", ["weight_decay"])
        return spec
    }

    /// The checkpoint `resume_from_checkpoint` names: a folder, or `true` for the newest in output_dir.
    public func resumeCheckpoint() throws -> URL? {
        guard let value = recipe.string("resume_from_checkpoint"), value.lowercased() != "false" else { return nil }
        if value.lowercased() == "true" {
            guard let latest = trainer.store.latest() else {
                throw SpecError("resume_from_checkpoint: true, but \(trainer.config.outputDir.path) holds no checkpoint-N folder")
            }
            return latest
        }
        let url = URL(fileURLWithPath: value)
        guard FileManager.default.fileExists(atPath: url.path) else { throw SpecError("resume_from_checkpoint: \(value) does not exist") }
        return url
    }

    /// Trains, then writes the result to output_dir: a PEFT adapter (`adapter_config.json` +
    /// `adapter_model.safetensors`) when the method has PEFT's format, else the model's weights
    /// (`model.safetensors`, Hugging Face names).
    @discardableResult
    public func run() throws -> TrainingSummary {
        let summary = try trainer.train(resumeFrom: try resumeCheckpoint())
        try writeFinalModel()
        return summary
    }

    /// Writes the trained adapter or model into output_dir; returns the files written. Under
    /// several ranks only rank 0 writes (every rank holds the same weights); the others return [].
    @discardableResult
    public func writeFinalModel() throws -> [URL] {
        guard trainer.communicator.isRoot else { return [] }
        let dir = trainer.config.outputDir
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        if let classifier = trainer.objective as? any ClassifierObjective, let head = classifier.classifierHead {
            try SequenceClassifier.writeTrained(model: pretrained.model, peft: peft, score: head, architecture: classifier.classifierArchitecture,
                                                source: pretrained.source, padTokenID: trainer.padID, to: dir)
            return ["config.json", "model.safetensors"].map { dir.appendingPathComponent($0) }
        }
        if let export = try? peft.export() {
            try PEFTAdapterFiles.write(export, to: dir)
            return [PEFTAdapterFiles.configFileName, PEFTAdapterFiles.weightsFileName].map { dir.appendingPathComponent($0) }
        }
        var tensors: [String: Tensor] = [:]
        for p in pretrained.model.namedParameters { tensors[p.name] = p.tensor }
        let weights = dir.appendingPathComponent("model.safetensors")
        try SafetensorsWriter.write(tensors, to: weights)
        return [weights]
    }
}
