import Foundation

/// Saves the quickstart's trained model as a Hugging Face folder (`config.json`,
/// `model.safetensors`, `tokenizer.json`, `tokenizer_config.json` with the ChatML template), so
/// `temper generate`, `temper search` and `temper eval` load it with `--model` like any checkpoint.
enum QuickstartModelFolder {
    /// Writes `model` and `tokenizer` into `directory`, assembled under a temporary name beside it and
    /// renamed into place (an existing folder is moved aside first and removed once the new one is in).
    static func write(_ model: LlamaModel, tokenizer: TokenizerDefinition, to directory: URL) throws {
        let fm = FileManager.default
        let staging = directory.deletingLastPathComponent()
            .appendingPathComponent(".\(directory.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            var tensors: [String: Tensor] = [:]
            for p in model.namedParameters { tensors[p.name] = p.tensor }
            try SafetensorsCheckpoint.write(tensors, to: staging, dtype: .F32)
            try model.config.huggingFaceJSON().write(to: staging.appendingPathComponent("config.json"))
            try tokenizer.huggingFaceTokenizerJSON().write(to: staging.appendingPathComponent("tokenizer.json"))
            try tokenizer.huggingFaceTokenizerConfigJSON().write(to: staging.appendingPathComponent("tokenizer_config.json"))
            try CheckpointStore.install(staging, at: directory)
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
    }
}
