/// The settings of one training run, with Hugging Face / TRL field names. Built from a YAML
/// recipe (`RecipeLoader`) and overridden by command-line flags (`set(_:_:)`), validated as it is
/// built, so a run never starts with a misspelt or out-of-range setting.
public struct TrainingRecipe: Equatable {
    /// Scalar fields: name, type, default, range and doc, as for component parameters (`temper
    /// plugins show` style), so recipes and flags share one validation and one error wording.
    public static let fields: [ParameterSpec] = [
        .string("model", default: nil, doc: "model to train: a GGUF file or a Hugging Face model folder"),
        .string("teacher_model", default: nil, doc: "frozen teacher / reference model (GGUF or HF folder) for objectives that compare against one, e.g. distill"),
        .string("train_file", default: nil, aliases: ["data"], doc: "training data (JSONL in TRL's shapes)"),
        .string("eval_file", default: nil, aliases: ["eval_data"], doc: "evaluation data (JSONL), for eval_steps"),
        .string("output_dir", default: "runs/temper", doc: "where checkpoints, metrics.jsonl and the final model go"),
        .float("learning_rate", default: nil, range: .greaterThan(0), doc: "peak learning rate (overrides the optimizer's lr)"),
        .int("per_device_train_batch_size", default: 8, range: .atLeast(1), doc: "sequences per micro-batch"),
        .int("gradient_accumulation_steps", default: 1, range: .atLeast(1), doc: "micro-batches per optimizer step"),
        .float("num_train_epochs", default: 3, range: .atLeast(0), doc: "passes over the data (ignored when max_steps > 0)"),
        .int("max_steps", default: -1, range: .atLeast(-1), doc: "optimizer steps to run; -1 means use num_train_epochs"),
        .choice("lr_scheduler_type", ["constant", "constant_with_warmup", "linear", "cosine", "cosine_with_min_lr"],
                default: "linear", doc: "learning-rate schedule after warmup"),
        .float("min_lr_rate", default: 0, range: .closed(0, 1), doc: "floor of cosine_with_min_lr, as a fraction of the peak rate"),
        .float("warmup_ratio", default: 0, range: .closed(0, 1), doc: "fraction of the steps spent warming up linearly"),
        .int("warmup_steps", default: 0, range: .atLeast(0), doc: "warmup steps (overrides warmup_ratio when > 0)"),
        .float("weight_decay", default: nil, range: .atLeast(0), doc: "weight decay (overrides the optimizer's)"),
        .float("max_grad_norm", default: 1, range: .atLeast(0), doc: "clip the global gradient norm to this (0 = off)"),
        .int("seed", default: 42, range: .atLeast(0), doc: "seed for initialisation, shuffling, dropout and sampling"),
        .int("logging_steps", default: 10, range: .atLeast(1), doc: "log metrics every this many steps"),
        .int("eval_steps", default: nil, range: .atLeast(1), doc: "evaluate on eval_file every this many steps"),
        .int("save_steps", default: 500, range: .atLeast(1), doc: "write a checkpoint every this many steps"),
        .int("save_total_limit", default: nil, range: .atLeast(1), doc: "keep at most this many checkpoints"),
        .string("resume_from_checkpoint", default: nil, doc: "a checkpoint folder, or true for the latest in output_dir"),
        .int("max_length", default: 1024, range: .atLeast(1), doc: "truncate tokenized examples to this many tokens"),
        .choice("truncation_mode", ["keep_start", "keep_end"], default: "keep_start", doc: "which end of a sequence longer than max_length is kept"),
        .int("max_prompt_length", default: nil, range: .atLeast(1), doc: "cut prompts of preference / unpaired / stepwise rows to their last this-many tokens"),
        .string("step_separator", default: "\n", doc: "what follows each step of stepwise (PRM) rows; its last token carries the step label"),
        .bool("precompute_ref_log_probs", default: false, doc: "compute the reference's log-probabilities of the training pairs once, cached in output_dir"),
        .bool("completion_only_loss", default: true, doc: "loss on completion tokens only (prompt-completion data)"),
        .bool("assistant_only_loss", default: false, doc: "loss on assistant turns only (conversational data)"),
        .bool("packing", default: false, doc: "pack several examples into each sequence"),
        .bool("gradient_checkpointing", default: false, doc: "recompute decoder-layer activations in backward instead of keeping them (less memory, one extra forward)"),
        .int("gradient_checkpointing_layers", default: nil, range: .atLeast(0), doc: "with gradient_checkpointing: how many layers (the first ones) to recompute; default all"),
        .bool("bf16", default: false, doc: "mixed precision: matrix products in bfloat16 with float32 accumulation (needs AVX512_BF16); weights, optimizer state and the loss stay float32"),
        .bool("skip_invalid_rows", default: false, doc: "skip malformed data rows with a count instead of stopping"),
        .bool("skip_nonfinite_steps", default: false, doc: "skip a step whose loss or gradient is NaN/inf instead of stopping"),
        .list("reward_weights", of: .float, default: nil, doc: "weight of each reward, in order (TRL); overrides weight= in specs"),
        // On-policy training (objectives that train on rollouts: grpo, ...), TRL GRPOConfig's names and defaults.
        .int("num_generations", default: 8, range: .atLeast(1), doc: "completions sampled per prompt (the group size)"),
        .int("max_prompt_length", default: nil, range: .atLeast(1), doc: "keep at most this many prompt tokens (the last ones); default all"),
        .int("max_completion_length", default: 512, range: .atLeast(1), doc: "most tokens sampled per completion; longer ones are cut and marked truncated"),
        .float("temperature", default: 1, range: .greaterThan(0), doc: "sampling temperature of rollouts; log-probs are read at it too"),
        .float("top_p", default: 1, range: ParameterRange(lower: 0, lowerInclusive: false, upper: 1), doc: "nucleus sampling mass of rollouts (1 = off)"),
        .int("top_k", default: 0, range: .atLeast(0), doc: "sample rollouts from the k most likely tokens (0 = off)"),
        .float("min_p", default: 0, range: .closed(0, 1), doc: "drop rollout tokens less likely than min_p × the best one (0 = off)"),
        .float("repetition_penalty", default: 1, range: .greaterThan(0), doc: "CTRL repetition penalty of rollouts (1 = off)"),
        .int("num_iterations", default: 1, range: .atLeast(1), doc: "optimisation passes over each generation batch (μ in GRPO); > 1 uses importance ratios"),
        .int("steps_per_generation", default: nil, range: .atLeast(1), doc: "micro-batches per generation batch; default gradient_accumulation_steps"),
        .bool("dynamic_sampling", default: false, doc: "DAPO: drop groups whose rewards are all equal and sample new prompts in their place"),
        .int("dynamic_sampling_max_rounds", default: 3, range: .atLeast(1), doc: "with dynamic_sampling: sampling rounds per generation batch before training on the groups found"),
        // QLoRA: the frozen base in blocks (adapters train in float32 beside them).
        .bool("keep_quantized", default: false, doc: "keep a GGUF model's quantized blocks as they are (memory-mapped) instead of decoding them to float32"),
        .choice("load_in", ["none", "8bit", "4bit"], default: "none",
                doc: "QLoRA's names (bitsandbytes): 8bit encodes the float projections to Q8_0 at load, 4bit to Q4_0; none keeps float32"),
        // The challenges every run measures (forgetting, reward hacking).
        .string("general_text_file", default: nil,
                doc: "held-out general text (UTF-8) whose perplexity is logged before and after training; default the built-in set, none = off"),
        .int("general_text_max_tokens", default: 512, range: .atLeast(2), doc: "tokens of the general text read per perplexity measurement"),
        .string("gold_reward", default: nil,
                doc: "on-policy runs: reward spec of the task's exact checker, logged as gold_reward beside the trained-on reward; default exact-match when the prompts have an answer column, none = off"),
    ]

    /// Fields that name components, by kind; `rewards` takes a list.
    public static let componentFields: [String: ComponentKind] = [
        "objective": .objective, "peft": .peft, "optimizer": .optimizer, "search": .search, "rewards": .reward,
    ]

    /// Accepted spellings of component fields besides their own name.
    static let componentAliases = ["reward": "rewards"]

    /// Every accepted top-level field name.
    public static var allFieldNames: [String] {
        fields.flatMap(\.allNames) + componentFields.keys.sorted() + componentAliases.keys.sorted()
    }

    /// Scalar settings by canonical name (defaults filled in; absent optional fields are missing).
    public private(set) var values: [String: ParameterValue]
    /// The training algorithm (default `sft`).
    public var objective = ComponentSpec(name: "sft")
    /// The PEFT method, if any (full fine-tuning when nil).
    public var peft: ComponentSpec?
    /// The optimizer (default `adamw`).
    public var optimizer = ComponentSpec(name: "adamw")
    /// Rewards, for RL objectives.
    public var rewards: [ComponentSpec] = []
    /// The rollout / inference search strategy, if any.
    public var search: ComponentSpec?

    /// A recipe holding every default.
    public init() {
        values = [:]
        for f in Self.fields { if let d = f.defaultValue { values[f.name] = d } }
    }

    /// Sets one field from text, as a flag or recipe line would (`learning_rate`, `2e-4`); component
    /// fields take spec strings (`optimizer`, `adamw:lr=1e-4`). Unknown names are errors that suggest
    /// the closest field; `source` prefixes the message (`recipe.yaml:4`).
    public mutating func set(_ key: String, _ raw: RawParameterValue, source: String = "") throws {
        let prefix = source.isEmpty ? "" : source + ": "
        let name = Self.componentAliases[key] ?? key
        if let kind = Self.componentFields[name] {
            try setComponent(kind, raw, prefix: prefix, field: key)
            return
        }
        guard let spec = Self.fields.first(where: { $0.allNames.contains(key) }) else {
            throw SpecError("\(prefix)unknown field '\(key)'.\(Suggestions.hint(key, Self.allFieldNames)) " +
                            "Fields: \(Self.allFieldNames.joined(separator: ", "))")
        }
        do {
            values[spec.name] = try spec.parse(raw, owner: "recipe")
        } catch let e as SpecError {
            throw SpecError(prefix + e.message)
        }
    }

    private mutating func setComponent(_ kind: ComponentKind, _ raw: RawParameterValue, prefix: String, field: String) throws {
        func spec(_ r: RawParameterValue) throws -> ComponentSpec {
            guard case .text(let text) = r else { throw SpecError("\(prefix)\(field) expects a component spec such as name:key=value") }
            do { return try ComponentSpec(parsing: text) } catch let e as SpecError { throw SpecError(prefix + e.message) }
        }
        switch kind {
        case .reward:
            if case .list(let items) = raw { rewards = try items.map(spec) } else { rewards = [try spec(raw)] }
        case .objective: objective = try spec(raw)
        case .peft: peft = try spec(raw)
        case .optimizer: optimizer = try spec(raw)
        case .search: search = try spec(raw)
        }
    }

    /// Checks settings that depend on each other; call after the recipe and the flags are applied.
    public func validate() throws {
        if try int("max_steps") <= 0, try double("num_train_epochs") <= 0 {
            throw SpecError("recipe: set max_steps > 0 or num_train_epochs > 0, or there is nothing to train")
        }
        if let weights = values["reward_weights"], case .list(let w) = weights, w.count != rewards.count {
            throw SpecError("recipe: reward_weights has \(w.count) values for \(rewards.count) rewards")
        }
        if let eval = values["eval_steps"], eval != .int(0), values["eval_file"] == nil {
            throw SpecError("recipe: eval_steps needs an eval_file")
        }
    }

    /// A scalar setting as Double (nil when unset and without default).
    public func double(_ name: String) throws -> Double {
        switch values[name] {
        case .float(let v): return v
        case .int(let v): return Double(v)
        default: throw SpecError("recipe: \(name) is not set")
        }
    }

    /// An int setting.
    public func int(_ name: String) throws -> Int {
        guard case .int(let v) = values[name] else { throw SpecError("recipe: \(name) is not set") }
        return v
    }

    /// A string or choice setting, or nil when unset.
    public func string(_ name: String) -> String? {
        if case .string(let v) = values[name] { return v }
        return nil
    }

    /// A bool setting.
    public func bool(_ name: String) throws -> Bool {
        guard case .bool(let v) = values[name] else { throw SpecError("recipe: \(name) is not set") }
        return v
    }

    /// Whether `name` holds a value (set, or defaulted).
    public func isSet(_ name: String) -> Bool { values[name] != nil }
}
