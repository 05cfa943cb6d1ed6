import Foundation
import TemperTensor

extension LlamaModel {
    /// Loads a model from a Hugging Face directory (`config.json` + `model.safetensors` or a sharded
    /// `model.safetensors.index.json`) or a GGUF file (dequantized to float32).
    public static func load(from url: URL) throws -> LlamaModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDir) else {
            throw ModelFormatError(file: url.path, "no such file or directory")
        }
        if isDir.boolValue {
            let config = try ModelConfig(huggingFaceConfigAt: url)
            let checkpoint = try SafetensorsCheckpoint(contentsOf: url)
            var weights = [String: Tensor]()
            for name in checkpoint.tensorNames { weights[name] = try checkpoint.tensor(named: name) }
            return try LlamaModel(config: config, weights: weights, source: url.path)
        }
        if url.pathExtension.lowercased() == "gguf" {
            let file = try GGUFFile(contentsOf: url)
            let config = try ModelConfig(gguf: file)
            return try LlamaModel(config: config, weights: try file.huggingFaceWeights(config: config), source: url.path)
        }
        throw ModelFormatError(file: url.path, "expected a .gguf file or a Hugging Face model directory with config.json")
    }
}
