import Foundation

/// TRL's `precompute_ref_log_probs`: the reference model's log-probabilities of every training
/// row, computed once before training and kept with the run, so training needs no reference
/// forward pass (and, under full fine-tuning, no frozen copy of the model).
///
/// Preference pairs get [chosen, rejected]; unpaired (KTO) rows get [completion, mismatched],
/// where the mismatched (KL) row is fixed here as TRL's KTOTrainer fixes it when it prepares the
/// data: within consecutive chunks of `batchSize` rows in file order, row k takes the prompt of
/// row k and the completion of row k − 1 (cyclically; a last chunk of one row borrows from the
/// row before it). Without precomputation the collator pairs the rows of each drawn batch instead.
///
/// They live in `output_dir/ref_logps_<split>.safetensors` (one `[rows, 2]` tensor, with a
/// fingerprint of the tokenized data — KL rows included — in the metadata). A run that finds a file
/// with the same fingerprint — a resumed run, or a rerun into the same folder — loads it instead of
/// computing, so restoring a checkpoint never recomputes them; a file for other data is an error
/// rather than silently used.
public enum ReferenceLogProbCache {
    /// The cache file of `split` ("train", "eval") in `outputDir`.
    public static func file(_ split: String, in outputDir: URL) -> URL { outputDir.appendingPathComponent("ref_logps_\(split).safetensors") }

    /// `dataset` with `referenceLogProbs` set on every example (and, for unpaired rows, the fixed
    /// `mismatched` rows), read from `file` when it holds this data's values, else computed with
    /// the model `reference` makes (called only then: under full fine-tuning it copies the weights)
    /// in batches of `batchSize` and written there (under a temporary name, then renamed).
    public static func attach(to dataset: TokenizedDataset, reference: () throws -> any TrainableLanguageModel, padID: Int32, batchSize: Int,
                              file: URL, reporter: ProgressReporter? = nil) throws -> TokenizedDataset {
        var out = dataset
        let what: String
        if dataset.examples.allSatisfy({ $0.shape == .pair }) {
            what = "pairs"
        } else if dataset.examples.allSatisfy({ $0.shape == .unpaired }) {
            what = "rows"
            out.examples = fixingMismatchedRows(dataset.examples, batchSize: batchSize)
        } else {
            throw SpecError("precompute_ref_log_probs: \(dataset.file) must hold preference rows (prompt, chosen, rejected) " +
                            "or unpaired rows (prompt, completion, label)")
        }
        let fingerprint = Self.fingerprint(out.examples)
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
            for start in stride(from: 0, to: out.examples.count, by: max(1, batchSize)) {
                let chunk = Array(out.examples[start..<min(start + max(1, batchSize), out.examples.count)])
                let batch = BatchCollator.collate(chunk, padID: padID)
                let (first, second) = try withNoGrad { try withEvalMode { try sums(of: batch, rows: chunk.count, model: model) } }
                for i in chunk.indices { values += [first[i], second[i]] }
            }
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try SafetensorsWriter.write(["ref_logps": Tensor(shape: [dataset.examples.count, 2], scalars: values)], to: file,
                                        metadata: ["format": "pt", "fingerprint": fingerprint])
            reporter?.message("reference log-probabilities of \(dataset.examples.count) \(what) of \(dataset.file) written to \(file.path)")
        }
        for i in out.examples.indices { out.examples[i].referenceLogProbs = [values[2 * i], values[2 * i + 1]] }
        return out
    }

    /// The sequence log-probabilities of a collated batch of `rows` examples: chosen and rejected
    /// of pairs, or completion and KL row of unpaired rows.
    private static func sums(of batch: TrainingBatch, rows: Int, model: any TrainableLanguageModel) throws -> ([Float], [Float]) {
        let own = try SequenceLogProbs(model: model, batch: batch).sums.scalars
        guard let klIDs = batch.extra[BatchKeys.klInputIDs], let klAttention = batch.extra[BatchKeys.klAttentionMask],
              let klLoss = batch.extra[BatchKeys.klLossMask] else { return (Array(own[..<rows]), Array(own[rows...])) }
        let kl = try SequenceLogProbs(model: model, inputIDs: klIDs, attentionMask: klAttention, lossMask: klLoss).sums.scalars
        return (own, kl)
    }

    /// Unpaired `examples` with their KL rows fixed as TRL's KTOTrainer does (see the type's
    /// comment): each at most as long as the longer of its two sources.
    public static func fixingMismatchedRows(_ examples: [TokenizedExample], batchSize: Int) -> [TokenizedExample] {
        var out = examples
        let size = max(1, batchSize)
        for start in stride(from: 0, to: examples.count, by: size) {
            let chunk = start..<min(start + size, examples.count)
            for i in chunk {
                let other = chunk.count > 1 ? (i == chunk.lowerBound ? chunk.upperBound - 1 : i - 1) : (i + examples.count - 1) % examples.count
                out[i].mismatched = BatchCollator.klRow(prompt: examples[i], completionOf: examples[other],
                                                        cap: max(examples[i].ids.count, examples[other].ids.count))
            }
        }
        return out
    }

    /// FNV-1a 64 over every example's token ids and loss masks (its rejected or KL row included), in order.
    static func fingerprint(_ examples: [TokenizedExample]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: Int64) { for shift in stride(from: 0, to: 64, by: 8) { hash = (hash ^ UInt64((v >> Int64(shift)) & 0xFF)) &* 0x100_0000_01B3 } }
        for e in examples {
            for part in [TokenizedSequence(ids: e.ids, lossMask: e.lossMask)] + [e.rejected ?? e.mismatched].compactMap({ $0 }) {
                mix(Int64(part.ids.count))
                for (id, m) in zip(part.ids, part.lossMask) { mix(Int64(id) << 1 | (m ? 1 : 0)) }
            }
        }
        return String(hash, radix: 16)
    }
}
