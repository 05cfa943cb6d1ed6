import ArgumentParser
import Foundation
import TemperCore

/// The model `generate` and `chat` run: `--model`, optionally adapted by `--adapter`, so both
/// commands load and adapt it the same way.
struct ModelOptions: ParsableArguments {
    @Option(help: "A .gguf file or a Hugging Face model directory.")
    var model: String
    @Option(help: ArgumentHelp("A PEFT adapter folder to apply (adapter_config.json + adapter_model.safetensors), e.g. a `temper train` output_dir.",
                               discussion: "LoRA, DoRA and IA3 are merged into the weights first; prompt and prefix tuning run as they are."))
    var adapter: String?
    @OptionGroup var plugins: PluginOptions

    /// Loads the model and, with `--adapter`, installs the adapter (loading the PEFT plugin first).
    /// Returns the adapter's description for the summary line too.
    func load() throws -> (model: PretrainedModel, adapter: InstalledAdapter?) {
        let pm = try loadPretrained(model)
        guard let adapter else { return (pm, nil) }
        plugins.loadPlugins()
        do {
            return (pm, try InstalledAdapter.install(from: URL(fileURLWithPath: adapter), into: pm.model))
        } catch {
            throw CommandError(description: "cannot apply the adapter: \(error)")
        }
    }
}

/// Loads a model and tokenizer, turning load failures into one-line errors.
func loadPretrained(_ path: String) throws -> PretrainedModel {
    do { return try PretrainedModel.load(from: URL(fileURLWithPath: path)) } catch {
        throw CommandError(description: "cannot load model: \(error)")
    }
}
