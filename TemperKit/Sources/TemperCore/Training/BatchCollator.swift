/// Pads a list of examples into one `TrainingBatch`, laid out by their shape (`ExampleShape`).
public enum BatchCollator {
    /// Right-pads `examples` (all of one shape) to the longest row with `padID`: attention mask 1 on
    /// real tokens, loss mask 1 on target tokens, both 0 on padding. Right padding leaves every
    /// real token's causal context unchanged. A packed row (`packedLengths`) numbers its examples'
    /// tokens 1, 2, 3, ... in the attention mask instead of 1: the model keeps attention within
    /// each number (`LlamaModel.forward`). Beyond plain sequences:
    /// - preference pairs: rows `0..<n` chosen, `n..<2n` rejected, one batch padded to the longest of
    ///   all 2n, so both go through the model in one pass; `extra[BatchKeys.pairs]` marks it,
///   `extra[BatchKeys.scoreIndex]` holds where a sequence classifier reads each row (transformers'
///   rule: the last token that is not padding),
    ///   `extra[BatchKeys.margin]` holds margins when every row has one;
    /// - unpaired rows: `extra[BatchKeys.label]` (1 desirable, 0 undesirable) and TRL's KL rows —
    ///   prompt i with the completion of row i − 1 (cyclically), cut to the batch's longest row, or
    ///   the rows' own fixed `mismatched` rows when they all carry one — as `kl_input_ids`,
    ///   `kl_attention_mask`, `kl_loss_mask`; precomputed reference log-probabilities as
    ///   `extra[BatchKeys.referenceLogProbs]` and `extra[BatchKeys.klReferenceLogProbs]`, `[n]` each;
    /// - stepwise rows: `extra[BatchKeys.stepLabels]`, int32 `[batch, seq]`, −100 where no step ends;
    /// - precomputed reference log-probabilities, when present: `extra[BatchKeys.referenceLogProbs]`
    ///   `[2n]` for pairs, in row order.
    public static func collate(_ examples: [TokenizedExample], padID: Int32) -> TrainingBatch {
        precondition(!examples.isEmpty, "BatchCollator: an empty batch")
        let shape = examples[0].shape
        precondition(examples.allSatisfy { $0.shape == shape }, "BatchCollator: examples of different shapes in one batch")
        switch shape {
        case .sequence:
            var batch = pad(examples.map { TokenizedSequence(ids: $0.ids, lossMask: $0.lossMask) }, padID: padID)
            if examples.contains(where: { $0.packedLengths.count > 1 }) { batch.attentionMask = segmentMask(examples, length: batch.inputIDs.shape[1]) }
            return batch
        case .pair:
            let rows = examples.map { TokenizedSequence(ids: $0.ids, lossMask: $0.lossMask) } + examples.map { $0.rejected! }
            var batch = pad(rows, padID: padID)
            batch.extra[BatchKeys.scoreIndex] = Tensor(shape: [rows.count], scalars: rows.map {
                Float(SequenceClassifier.scoreIndex($0.ids[...], padTokenID: padID))
            })
            batch.extra[BatchKeys.pairs] = Tensor(shape: [examples.count], scalars: [Float](repeating: 1, count: examples.count))
            if examples.allSatisfy({ $0.margin != nil }) {
                batch.extra[BatchKeys.margin] = Tensor(shape: [examples.count], scalars: examples.map { $0.margin! })
            }
            if examples.allSatisfy({ $0.referenceLogProbs?.count == 2 }) {
                let ref = examples.map { $0.referenceLogProbs![0] } + examples.map { $0.referenceLogProbs![1] }
                batch.extra[BatchKeys.referenceLogProbs] = Tensor(shape: [ref.count], scalars: ref)
            }
            return batch
        case .unpaired:
            var batch = pad(examples.map { TokenizedSequence(ids: $0.ids, lossMask: $0.lossMask) }, padID: padID)
            batch.extra[BatchKeys.label] = Tensor(shape: [examples.count], scalars: examples.map { $0.label! ? 1 : 0 })
            let longest = batch.inputIDs.shape[1]
            let fixed = examples.compactMap(\.mismatched)
            let kl = fixed.count == examples.count ? fixed : examples.indices.map { i in
                klRow(prompt: examples[i], completionOf: examples[(i + examples.count - 1) % examples.count], cap: longest)
            }
            let klBatch = pad(kl, padID: padID)
            batch.extra[BatchKeys.klInputIDs] = klBatch.inputIDs
            batch.extra[BatchKeys.klAttentionMask] = klBatch.attentionMask
            batch.extra[BatchKeys.klLossMask] = klBatch.lossMask
            if fixed.count == examples.count, examples.allSatisfy({ $0.referenceLogProbs?.count == 2 }) {
                batch.extra[BatchKeys.referenceLogProbs] = Tensor(shape: [examples.count], scalars: examples.map { $0.referenceLogProbs![0] })
                batch.extra[BatchKeys.klReferenceLogProbs] = Tensor(shape: [examples.count], scalars: examples.map { $0.referenceLogProbs![1] })
            }
            return batch
        case .stepwise:
            var batch = pad(examples.map { TokenizedSequence(ids: $0.ids, lossMask: $0.lossMask) }, padID: padID)
            let length = batch.inputIDs.shape[1]
            var labels = [Int32](repeating: -100, count: examples.count * length)
            for (r, e) in examples.enumerated() { for (t, l) in e.stepLabels!.enumerated() { labels[r * length + t] = l } }
            batch.extra[BatchKeys.stepLabels] = Tensor(shape: [examples.count, length], int32: labels)
            return batch
        }
    }

    /// KTO's mismatched row: the prompt of `prompt` with the completion of `other`, at most `cap`
    /// tokens, the loss on the completion's tokens.
    static func klRow(prompt: TokenizedExample, completionOf other: TokenizedExample, cap: Int) -> TokenizedSequence {
        let ids = Array((prompt.ids[..<prompt.promptLength] + other.ids[other.promptLength...]).prefix(cap))
        return TokenizedSequence(ids: ids, lossMask: ids.indices.map { $0 >= prompt.promptLength })
    }

    /// The attention mask of packed rows: example k of a row (from 1) is k on its tokens, padding 0.
    static func segmentMask(_ examples: [TokenizedExample], length: Int) -> Tensor {
        var mask = [Float](repeating: 0, count: examples.count * length)
        for (r, e) in examples.enumerated() {
            var t = 0
            for (k, n) in (e.packedLengths.isEmpty ? [e.ids.count] : e.packedLengths).enumerated() {
                for _ in 0..<n { mask[r * length + t] = Float(k + 1); t += 1 }
            }
        }
        return Tensor(shape: [examples.count, length], scalars: mask)
    }

    /// Right-pads sequences into ids, attention mask and loss mask.
    static func pad(_ rows: [TokenizedSequence], padID: Int32) -> TrainingBatch {
        let b = rows.count
        let length = max(1, rows.map(\.ids.count).max()!)
        var ids = [Int32](repeating: padID, count: b * length)
        var attention = [Float](repeating: 0, count: b * length)
        var loss = [Float](repeating: 0, count: b * length)
        for (r, e) in rows.enumerated() {
            for t in e.ids.indices {
                ids[r * length + t] = e.ids[t]
                attention[r * length + t] = 1
                loss[r * length + t] = e.lossMask[t] ? 1 : 0
            }
        }
        return TrainingBatch(inputIDs: Tensor(shape: [b, length], int32: ids),
                             attentionMask: Tensor(shape: [b, length], scalars: attention),
                             lossMask: Tensor(shape: [b, length], scalars: loss))
    }
}

/// The order in which a dataset is visited, epoch by epoch.
///
/// Each epoch's order is a function of the seed and the epoch number alone (a Fisher–Yates
/// shuffle driven by Philox), so a resumed run sees exactly the batches an uninterrupted run would,
/// without saving the permutation.
public enum EpochOrder {
    /// Indices `0..<count` in epoch `epoch`'s order.
    public static func permutation(count: Int, seed: UInt64, epoch: Int, shuffle: Bool = true) -> [Int] {
        var order = Array(0..<count)
        guard shuffle, count > 1 else { return order }
        var rng = PhiloxRNG(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(epoch) &+ 1)
        for i in stride(from: count - 1, to: 0, by: -1) {
            // Rejection sampling keeps each position uniform (no modulo bias).
            let bound = UInt64(i + 1)
            let limit = UInt64.max - UInt64.max % bound
            var r = rng.next()
            while r >= limit { r = rng.next() }
            order.swapAt(i, Int(r % bound))
        }
        return order
    }
}
