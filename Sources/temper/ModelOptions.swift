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
    @Flag(name: .customLong("keep-quantized"),
          help: ArgumentHelp("Keep a GGUF file's quantized blocks as they are (projections, embedding, tied head; memory-mapped) instead of decoding them to float32.",
                             discussion: "Less memory and faster decoding; the logits move within the tolerances the README states."))
    var keepQuantized = false
    @Option(help: "Encode the float32 projections to q8_0, q4_0 or q4_1 at load (a GGUF file's blocks are kept as they are).")
    var quantize: String?
    @Option(name: .customLong("load_in"), help: "QLoRA's names: 8bit (= --quantize q8_0) or 4bit (= --quantize q4_0).")
    var loadIn: String?

    func validate() throws { _ = try quantization() }

    /// How the weights are held, from `--keep-quantized`, `--quantize` and `--load_in`.
    func quantization() throws -> WeightQuantization {
        if quantize != nil && loadIn != nil { throw ValidationError("give --quantize or --load_in, not both") }
        if let loadIn {
            guard let q = WeightQuantization.loadIn(loadIn) else { throw ValidationError("--load_in must be 8bit or 4bit, got '\(loadIn)'") }
            return q
        }
        if let quantize {
            guard let f = QuantFormat(rawValue: quantize.uppercased()), QuantFormat.encodable.contains(f) else {
                throw ValidationError("--quantize must be one of \(QuantFormat.encodable.map { $0.rawValue.lowercased() }.joined(separator: ", ")), got '\(quantize)'")
            }
            return .quantize(f)
        }
        return keepQuantized ? .keepGGUFBlocks : .none
    }

    /// Loads the model and, with `--adapter`, installs the adapter (loading the PEFT plugin first).
    /// Returns the adapter's description for the summary line too.
    func load() throws -> (model: PretrainedModel, adapter: InstalledAdapter?) {
        let pm = try loadPretrained(model, quantization: try quantization())
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
func loadPretrained(_ path: String, quantization: WeightQuantization = .none) throws -> PretrainedModel {
    do { return try PretrainedModel.load(from: URL(fileURLWithPath: path), quantization: quantization) } catch {
        throw CommandError(description: "cannot load model: \(error)")
    }
}
