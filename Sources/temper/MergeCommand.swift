import ArgumentParser
import Foundation
import TemperCore

/// `temper merge`: fold a PEFT adapter (LoRA, DoRA, IA3) into its base model and save a plain
/// Hugging Face model folder; without `--adapter` it converts a GGUF file into such a folder.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge a PEFT adapter into its base model and write a Hugging Face safetensors model folder.",
        discussion: "Without --adapter the model is written as it is: a GGUF file becomes a folder transformers loads.")

    @Option(help: "The base model: a Hugging Face model folder (config.json + safetensors) or a .gguf file.")
    var model: String
    @Option(help: "The adapter folder (adapter_config.json + adapter_model.safetensors), from Temper or PEFT.")
    var adapter: String?
    @Option(help: "The folder to create for the merged model (must not exist).")
    var output: String
    @Option(help: "Storage type of the merged weights: f32, f16 or bf16.")
    var dtype: String = "f32"
    @OptionGroup var plugins: PluginOptions

    func run() throws {
        let types: [String: SafetensorsDType] = ["f32": .F32, "float32": .F32, "f16": .F16, "float16": .F16, "bf16": .BF16, "bfloat16": .BF16]
        guard let storage = types[dtype.lowercased()] else {
            throw CommandError(description: "--dtype must be f32, f16 or bf16, got '\(dtype)'")
        }
        if adapter != nil { plugins.loadPlugins() }
        let summary: AdapterMerging.Summary
        do {
            summary = try AdapterMerging.merge(modelDirectory: URL(fileURLWithPath: model), adapterDirectory: adapter.map { URL(fileURLWithPath: $0) },
                                               outputDirectory: URL(fileURLWithPath: output), dtype: storage)
        } catch {
            throw CommandError(description: "\(error)")
        }
        let files = summary.files.joined(separator: ", ")
        if let method = summary.method {
            print("merged \(method) adapter (\(summary.mergedLayers) layers) into \(output): \(files)")
        } else {
            print("wrote \(model) as a Hugging Face model folder \(output): \(files)")
        }
    }
}
