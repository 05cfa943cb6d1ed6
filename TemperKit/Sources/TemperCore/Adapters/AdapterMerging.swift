import Foundation
import TemperModels
import TemperTensor

/// Folding a saved PEFT adapter into its base model and writing the result as a plain Hugging Face
/// model folder (what `temper merge` does), loadable by any tool without PEFT. The base is a Hugging
/// Face folder (its tokenizer and config files are copied) or a GGUF file (config, tokenizer and
/// generation settings are written from its metadata), so a GGUF model trained with Temper can be
/// handed to transformers.
public enum AdapterMerging {
    /// What a merge wrote.
    public struct Summary: Sendable {
        /// The PEFT method that was merged (`lora`, `dora`, `ia3`); nil for a plain conversion.
        public var method: String?
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

    /// Loads the model at `modelDirectory` (a Hugging Face folder or a GGUF file), applies and merges
    /// the adapter in `adapterDirectory` (none: the model is only converted), and writes `config.json`,
    /// the merged safetensors and the tokenizer/config files into `outputDirectory`. The folder is
    /// assembled under a temporary name beside the destination and renamed at the end, so a failed
    /// merge leaves nothing half-written; an existing destination is an error rather than overwritten.
    public static func merge(modelDirectory: URL, adapterDirectory: URL?, outputDirectory: URL,
                             dtype: SafetensorsDType = .F32, registry: ComponentRegistry = .shared) throws -> Summary {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        let exists = fm.fileExists(atPath: modelDirectory.path, isDirectory: &isDir)
        let isFolder = exists && isDir.boolValue
        guard exists, !isFolder || fm.fileExists(atPath: modelDirectory.appendingPathComponent("config.json").path) else {
            throw SpecError("merge: \(modelDirectory.path) is neither a Hugging Face model folder with config.json nor a GGUF file")
        }
        guard !fm.fileExists(atPath: outputDirectory.path) else {
            throw SpecError("merge: \(outputDirectory.path) already exists; choose a new output folder")
        }
        let model = try LlamaModel.load(from: modelDirectory)
        let installed = try adapterDirectory.map { try InstalledAdapter.install(from: $0, into: model, requireMerge: true, registry: registry) }
        // Read before anything is written, so a GGUF whose tokenizer cannot be saved fails early.
        let metadata: [String: Data] = try isFolder ? [:] : huggingFaceMetadata(gguf: modelDirectory, config: model.config, dtype: dtype)

        let parent = outputDirectory.deletingLastPathComponent()
        try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        let staging = parent.appendingPathComponent(".\(outputDirectory.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
            var tensors: [String: Tensor] = [:]
            for p in model.namedParameters { tensors[p.name] = p.tensor }
            try SafetensorsCheckpoint.write(tensors, to: staging, dtype: dtype)
            for (name, data) in metadata { try data.write(to: staging.appendingPathComponent(name)) }
            if isFolder {
                for name in try fm.contentsOfDirectory(atPath: modelDirectory.path).sorted() where !isWeightFile(name) && !name.hasPrefix(".") {
                    let source = modelDirectory.appendingPathComponent(name)
                    var sourceIsDir: ObjCBool = false
                    guard fm.fileExists(atPath: source.path, isDirectory: &sourceIsDir), !sourceIsDir.boolValue else { continue }
                    // Contents only: a read-only source (a shared cache) must not make the copy read-only.
                    try Data(contentsOf: source).write(to: staging.appendingPathComponent(name))
                }
            }
            let files = try fm.contentsOfDirectory(atPath: staging.path).sorted()
            if rename(staging.path, outputDirectory.path) != 0 {
                throw SpecError("merge: cannot move the merged model into \(outputDirectory.path): \(String(cString: strerror(errno)))")
            }
            return Summary(method: installed?.method, mergedLayers: installed?.mergedLayers ?? 0, files: files)
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }

    /// The metadata files of a Hugging Face folder for the model in a GGUF file: `config.json`,
    /// `generation_config.json`, `tokenizer.json` and `tokenizer_config.json`, by file name.
    static func huggingFaceMetadata(gguf url: URL, config: ModelConfig, dtype: SafetensorsDType) throws -> [String: Data] {
        let names: [SafetensorsDType: String] = [.F32: "float32", .F16: "float16", .BF16: "bfloat16"]
        guard let torchDtype = names[dtype] else {
            throw SpecError("merge: weights can be saved as F32, F16 or BF16, not \(dtype.rawValue)")
        }
        do {
            let tokenizer = try TokenizerDefinition(gguf: GGUFTokenizerMetadata(try GGUFFile(contentsOf: url).metadata))
            return ["config.json": try config.huggingFaceJSON(torchDtype: torchDtype),
                    "generation_config.json": try config.huggingFaceGenerationConfigJSON(padTokenId: tokenizer.padTokenID.map(Int.init)),
                    "tokenizer.json": try tokenizer.huggingFaceTokenizerJSON(),
                    "tokenizer_config.json": try tokenizer.huggingFaceTokenizerConfigJSON()]
        } catch {
            throw SpecError("merge: cannot describe \(url.path) as a Hugging Face folder: \(error)")
        }
    }
}
