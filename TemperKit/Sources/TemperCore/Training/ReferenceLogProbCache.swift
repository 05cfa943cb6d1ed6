import Foundation

/// TRL's `precompute_ref_log_probs`: the reference model's log-probabilities of every preference
/// pair, computed once before training and kept with the run, so training needs no reference
/// forward pass (and, under full fine-tuning, no frozen copy of the model).
///
/// They live in `output_dir/ref_logps_<split>.safetensors` (one `[pairs, 2]` tensor, chosen and
/// rejected, with a fingerprint of the tokenized data in the metadata). A run that finds a file with
/// the same fingerprint — a resumed run, or a rerun into the same folder — loads it instead of
/// computing, so restoring a checkpoint never recomputes them; a file for other data is an error
/// rather than silently used.
public enum ReferenceLogProbCache {
    /// The cache file of `split` ("train", "eval") in `outputDir`.
    public static func file(_ split: String, in outputDir: URL) -> URL { outputDir.appendingPathComponent("ref_logps_\(split).safetensors") }

    /// `dataset` with `referenceLogProbs` set on every example, read from `file` when it holds this
    /// data's values, else computed with the model `reference` makes (called only then: under full
    /// fine-tuning it copies the weights) in batches of `batchSize` and written there (under a
    /// temporary name, then renamed). Only preference pairs are supported.
    public static func attach(to dataset: TokenizedDataset, reference: () throws -> any TrainableLanguageModel, padID: Int32, batchSize: Int,
                              file: URL, reporter: ProgressReporter? = nil) throws -> TokenizedDataset {
        guard dataset.examples.allSatisfy({ $0.shape == .pair }) else {
            throw SpecError("precompute_ref_log_probs: \(dataset.file) must hold preference rows (prompt, chosen, rejected); " +
                            "KTO's KL rows depend on how each batch is drawn, so they cannot be computed in advance")
        }
        let fingerprint = Self.fingerprint(dataset.examples)
        var values: [Float]
        if FileManager.default.fileExists(atPath: file.path) {
            let saved = try SafetensorsFile(contentsOf: file)
            guard saved.metadata["fingerprint"] == fingerprint, let t = try? saved.tensor(named: "ref_logps"),
                  t.shape == [dataset.examples.count, 2] else {
                throw SpecError("precompute_ref_log_probs: \(file.path) holds reference log-probabilities of other data; " +
                                "remove it or choose another output_dir")
            }
            values = t.scalars
            reporter?.message("reference log-probabilities of \(dataset.file) read from \(file.path)")
        } else {
            let model = try reference()
            values = []
            values.reserveCapacity(2 * dataset.examples.count)
            for start in stride(from: 0, to: dataset.examples.count, by: max(1, batchSize)) {
                let chunk = Array(dataset.examples[start..<min(start + max(1, batchSize), dataset.examples.count)])
                let batch = BatchCollator.collate(chunk, padID: padID)
                let sums = try withNoGrad { try withEvalMode { try SequenceLogProbs(model: model, batch: batch).sums.scalars } }
                for i in chunk.indices { values += [sums[i], sums[chunk.count + i]] }
            }
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try SafetensorsWriter.write(["ref_logps": Tensor(shape: [dataset.examples.count, 2], scalars: values)], to: file,
                                        metadata: ["format": "pt", "fingerprint": fingerprint])
            reporter?.message("reference log-probabilities of \(dataset.examples.count) pairs of \(dataset.file) written to \(file.path)")
        }
        var out = dataset
        for i in out.examples.indices { out.examples[i].referenceLogProbs = [values[2 * i], values[2 * i + 1]] }
        return out
    }

    /// FNV-1a 64 over every pair's token ids and loss masks, in order.
    static func fingerprint(_ examples: [TokenizedExample]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: Int64) { for shift in stride(from: 0, to: 64, by: 8) { hash = (hash ^ UInt64((v >> Int64(shift)) & 0xFF)) &* 0x100_0000_01B3 } }
        for e in examples {
            for part in [TokenizedSequence(ids: e.ids, lossMask: e.lossMask), e.rejected!] {
                mix(Int64(part.ids.count))
                for (id, m) in zip(part.ids, part.lossMask) { mix(Int64(id) << 1 | (m ? 1 : 0)) }
            }
        }
        return String(hash, radix: 16)
    }
}
