import Foundation
import TemperModels
import TemperTensor

/// Folding a saved PEFT adapter into its base model and writing the result as a plain Hugging Face
/// model folder (what `temper merge` does), loadable by any tool without PEFT.
public enum AdapterMerging {
    /// What a merge wrote.
    public struct Summary: Sendable {
        /// The PEFT method that was merged (`lora`, `dora`, `ia3`).
        public var method: String
        /// Adapted layers folded into the weights.
        public var mergedLayers: Int
        /// Files written or copied into the output folder.
        public var files: [String]
    }

    /// Files of a model folder that are weights (rewritten by the merge) rather than metadata to copy.
    static func isWeightFile(_ name: String) -> Bool {
        let lower = name.lowercased()
        return [".safetensors", ".bin", ".pt", ".pth", ".gguf", ".ckpt"].contains { lower.hasSuffix($0) }
            || lower == SafetensorsCheckpoint.indexFileName || lower == "pytorch_model.bin.index.json"
    }

    /// Loads the model in `modelDirectory`, applies and merges the adapter in `adapterDirectory`,
    /// and writes `config.json`, the merged safetensors and every tokenizer/config file of the
    /// source into `outputDirectory`. The folder is assembled under a temporary name beside the
    /// destination and renamed at the end, so a failed merge leaves nothing half-written; an
    /// existing destination is an error rather than overwritten.
    public static func merge(modelDirectory: URL, adapterDirectory: URL, outputDirectory: URL,
                             dtype: SafetensorsDType = .F32, registry: ComponentRegistry = .shared) throws -> Summary {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: modelDirectory.path, isDirectory: &isDir), isDir.boolValue,
              fm.fileExists(atPath: modelDirectory.appendingPathComponent("config.json").path) else {
            throw SpecError("merge: \(modelDirectory.path) is not a Hugging Face model folder with config.json (merging into a GGUF file is not supported)")
        }
        guard !fm.fileExists(atPath: outputDirectory.path) else {
            throw SpecError("merge: \(outputDirectory.path) already exists; choose a new output folder")
        }
        let model = try LlamaModel.load(from: modelDirectory)
        let method = try PEFTAdapterLoader.load(from: adapterDirectory, into: model, registry: registry)
        let adapted = model.linearLayers.filter { $0.adapter != nil }.count
        try method.merge(into: model)

        let parent = outputDirectory.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let staging = parent.appendingPathComponent(".\(outputDirectory.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
            var tensors: [String: Tensor] = [:]
            for p in model.namedParameters { tensors[p.name] = p.tensor }
            try SafetensorsCheckpoint.write(tensors, to: staging, dtype: dtype)
            for name in try fm.contentsOfDirectory(atPath: modelDirectory.path).sorted() where !isWeightFile(name) && !name.hasPrefix(".") {
                let source = modelDirectory.appendingPathComponent(name)
                var sourceIsDir: ObjCBool = false
                guard fm.fileExists(atPath: source.path, isDirectory: &sourceIsDir), !sourceIsDir.boolValue else { continue }
                // Contents only: a read-only source (a shared cache) must not make the copy read-only.
                try Data(contentsOf: source).write(to: staging.appendingPathComponent(name))
            }
            let files = try fm.contentsOfDirectory(atPath: staging.path).sorted()
            if rename(staging.path, outputDirectory.path) != 0 {
                throw SpecError("merge: cannot move the merged model into \(outputDirectory.path): \(String(cString: strerror(errno)))")
            }
            return Summary(method: type(of: method).name, mergedLayers: adapted, files: files)
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }
}
