import Foundation
import TemperCore

/// Loads the plugins beside the fuzzer (the build folder), as `temper` does; a failure to find
/// any is an error, since the targets that resolve components would test nothing.
func loadPlugins() throws {
    let report = PluginLoader.shared.load(PluginSearchPath.standard(environment: [:]))
    guard !ComponentRegistry.shared.all().isEmpty else {
        throw FuzzError("no plugins loaded from \(PluginSearchPath.executableDirectory() ?? "?"): build them first (swift build -c release)\n\(report)")
    }
}

/// JSONL rows in every shape the trainer and `temper reward` read today: `text`, `messages`,
/// `prompt` + `completion` (plain and conversational), and completions with extra columns.
/// Each input is one file: read and tokenized by `TokenizedDataset.load` (strict, then skipping
/// bad rows, with packing), and read by `CompletionFile`.
final class DatasetRowsTarget: FuzzTarget {
    let name = "dataset-jsonl"
    let summary = "JSONL dataset rows: text, messages, prompt+completion, reward completions (TokenizedDataset.load, CompletionFile)"
    let shape = InputShape.jsonLines
    let dictionary = ["text", "messages", "prompt", "completion", "role", "content", "user", "assistant", "system",
                      "answer", "completion_ids", "chosen", "rejected", "label", "tool", "images"]
    private var path = URL(fileURLWithPath: "/")
    private var encoder: ExampleEncoder?

    func seeds(_ material: SeedMaterial) throws -> [(bytes: [UInt8], headerEnd: Int)] {
        let generated = """
        {"text": "12 + 30 = 42"}
        {"prompt": "What is 2 + 2?", "completion": " 4"}
        {"prompt": [{"role": "user", "content": "Hi"}], "completion": [{"role": "assistant", "content": "Hello"}]}
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "7 * 6?"}, {"role": "assistant", "content": "42"}]}
        {"prompt": "What is 9 * 7?", "completion": "63", "answer": "63", "completion_ids": [1, 2, 3]}

        """
        return [(Array(generated.utf8), 0),
                (Array(try material.file("examples/data/completions.jsonl").prefix(4096)), 0),
                (Array(try material.file("examples/data/addition-train.jsonl").prefix(2048)), 0)]
    }

    func setUp(_ material: SeedMaterial, scratch: URL) throws {
        let dir = scratch.appendingPathComponent("tokenizer")
        try material.writeFolder(dir)
        encoder = ExampleEncoder(tokenizer: try material.tokenizer(in: dir),
                                 options: EncodingOptions(completionOnlyLoss: true, assistantOnlyLoss: false, maxLength: 64))
        path = scratch.appendingPathComponent("rows.jsonl")
    }

    func execute(_ input: [UInt8]) throws {
        guard let encoder else { throw FuzzError("setUp did not run") }
        try writeInput(input, to: path)
        var firstError: Error?
        for (skip, packing) in [(false, false), (true, true)] {
            do { _ = try TokenizedDataset.load(path: path.path, encoder: encoder, skipInvalidRows: skip, packing: packing) } catch { firstError = firstError ?? error }
        }
        let assistantOnly = ExampleEncoder(tokenizer: encoder.tokenizer, options: EncodingOptions(completionOnlyLoss: false, assistantOnlyLoss: true, maxLength: 16))
        do { _ = try TokenizedDataset.load(path: path.path, encoder: assistantOnly, skipInvalidRows: true) } catch { firstError = firstError ?? error }
        do {
            let file = try CompletionFile(path: path.path)
            _ = file.batch(0..<file.count)
        } catch { firstError = firstError ?? error }
        if let firstError { throw firstError }
    }
}

/// YAML recipes: `RecipeLoader.parse`, `validate`, `TrainerConfig(recipe:)` and the resolution of
/// every component the recipe names against the loaded plugins.
final class RecipeTarget: FuzzTarget {
    let name = "recipe-yaml"
    let summary = "YAML recipes (RecipeLoader.parse, TrainingRecipe.validate, TrainerConfig, component resolution)"
    let shape = InputShape.text
    var dictionary: [String] { TrainingRecipe.allFieldNames + ComponentRegistry.shared.all().map(\.name) + ["name", "lora", "adamw"] }
    let syntaxTokens = ["&a ", "*a", "<<: ", "!!str ", "!!binary ", "!!int ", "? ", "- ", "[", "]", "{", "}", "\t", "'", "\"", "|\n",
                        ">\n", "#", "---\n", "...\n", ": ", ",", "%YAML 1.1\n", "\u{FEFF}", "~"]

    func seeds(_ material: SeedMaterial) throws -> [(bytes: [UInt8], headerEnd: Int)] {
        try loadPlugins()
        let generated = """
        objective: sft
        model: fixtures/tiny-llama-hf
        train_file: examples/data/addition-train.jsonl
        peft: lora:r=4,lora_alpha=8,target_modules=[q_proj,v_proj]
        optimizer: {name: adamw, weight_decay: 0.01}
        rewards: [exact-match, "format:weight=0.2"]
        max_steps: 3
        per_device_train_batch_size: 2
        gradient_accumulation_steps: 2
        learning_rate: 1.0e-3
        packing: true

        """
        return [(try material.file("examples/recipes/sft-lora.yaml"), 0), (try material.file("examples/recipes/sft-full.yaml"), 0),
                (Array(generated.utf8), 0)]
    }

    func setUp(_ material: SeedMaterial, scratch: URL) throws { try loadPlugins() }

    func execute(_ input: [UInt8]) throws {
        let recipe = try RecipeLoader.parse(String(decoding: input, as: UTF8.self), source: "fuzz.yaml")
        try recipe.validate()
        _ = try TrainerConfig(recipe: recipe)
        let registry = ComponentRegistry.shared
        _ = try registry.resolve(recipe.objective, kind: .objective)
        _ = try registry.resolve(recipe.optimizer, kind: .optimizer)
        if let peft = recipe.peft { _ = try registry.resolve(peft, kind: .peft) }
        if let search = recipe.search { _ = try registry.resolve(search, kind: .search) }
        for r in recipe.rewards { _ = try registry.resolve(r, kind: .reward) }
    }
}

/// Component specs as given on the command line (`--peft lora:r=16,...`): an input is
/// `KIND SPEC`; the spec is parsed, resolved and the component built; a PEFT method is also
/// applied to the tiny model and exported, which is where a size from a spec meets memory.
final class ComponentSpecTarget: FuzzTarget {
    let name = "component-spec"
    let summary = "component specs (ComponentSpec parsing, registry resolution, construction; PEFT applied to a tiny model)"
    let shape = InputShape.text
    var dictionary: [String] {
        ComponentRegistry.shared.all().flatMap { [$0.name] + $0.parameters.flatMap { [$0.name] + $0.aliases } } + ComponentKind.allCases.map(\.rawValue)
    }
    let syntaxTokens = [":", ",", "=", "[", "]", "'", "\"", " ", "\\", "all-linear", "true", "false"]
    private var material: SeedMaterial?

    func seeds(_ material: SeedMaterial) throws -> [(bytes: [UInt8], headerEnd: Int)] {
        try loadPlugins()
        var out: [String] = ["peft lora:r=16,lora_alpha=32,target_modules=all-linear", "peft prompt-tuning:num_virtual_tokens=3",
                             "optimizer adamw:lr=2e-4", "reward format:weight=0.2"]
        for d in ComponentRegistry.shared.all() {
            let settings = d.parameters.compactMap { p in p.defaultValue.map { "\(p.name)=\($0)" } }
            out.append("\(d.kind) \(d.name)")
            if !settings.isEmpty { out.append("\(d.kind) \(d.name):" + settings.joined(separator: ",")) }
        }
        return out.map { (Array($0.utf8), 0) }
    }

    func setUp(_ material: SeedMaterial, scratch: URL) throws {
        try loadPlugins()
        self.material = material
    }

    func execute(_ input: [UInt8]) throws {
        let text = String(decoding: input, as: UTF8.self)
        let parts = text.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        let kinds = parts.count == 2 ? ComponentKind(rawValue: String(parts[0])).map { [$0] } : nil
        let spec = try ComponentSpec(parsing: kinds == nil ? text : String(parts[1]))
        var firstError: Error?
        for kind in kinds ?? ComponentKind.allCases {
            do {
                let (descriptor, config) = try ComponentRegistry.shared.resolve(spec, kind: kind)
                let component = try descriptor.make(config)
                if let peft = component as? any PEFTMethod, let material {
                    _ = try peft.apply(to: try material.model())
                    _ = try peft.export()
                }
            } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }
}
