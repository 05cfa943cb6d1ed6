import Foundation
import TemperTensor

extension LlamaModel {
    /// Loads a model from a Hugging Face directory (`config.json` + `model.safetensors` or a sharded
    /// `model.safetensors.index.json`) or a GGUF file (dequantized to float32 unless `quantization`
    /// keeps its blocks).
    public static func load(from url: URL, quantization: WeightQuantization = .none) throws -> LlamaModel {
        let model = try loadWeights(from: url, keepBlocks: quantization != .none)
        if case .quantize(let format) = quantization {
            do { try model.quantizeProjections(to: format) } catch { throw ModelFormatError(file: url.path, "\(error)") }
        }
        return model
    }

    private static func loadWeights(from url: URL, keepBlocks: Bool) throws -> LlamaModel {
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
            let set = try file.huggingFaceWeights(config: config, keepQuantized: keepBlocks)
            for note in set.notes { FileHandle.standardError.write(Data("temper: \(note)\n".utf8)) }
            var weights = WeightSource(tensors: set.dense, quantized: set.quantized, source: url.path)
            let model = try LlamaModel(config: config, weights: &weights)
            try weights.checkAllUsed()
            return model
        }
        throw ModelFormatError(file: url.path, "expected a .gguf file or a Hugging Face model directory with config.json")
    }
}
