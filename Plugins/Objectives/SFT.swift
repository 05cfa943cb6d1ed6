import TemperCore

/// Supervised fine-tuning: the mean negative log-likelihood of the target tokens.
///
/// The logits at position t predict token t+1, so token t+1 is a target when `lossMask[t+1]` is 1
/// (completion or assistant tokens, as the data pipeline marks them). Every other position, and the
/// last one, which predicts nothing, carries Hugging Face's ignore index −100.
///
/// When the policy's LM head is a plain dense product (`LlamaModel.denseLMHeadWeight`: no adapter,
/// no bias, not block-quantized — e.g. SmolLM2's tied embedding under LoRA or full fine-tuning),
/// the head is fused into the loss (`Tensor.linearCrossEntropy`), so the `[batch, seq, vocab]`
/// logits and their gradient are never held; any other head goes through the logits.
public final class SFT: Objective {
    /// Registered name.
    public static let name = "sft"
    /// One-line summary for `temper plugins`.
    public static let summary = "supervised fine-tuning: mean negative log-likelihood of completion / assistant tokens"
    /// No settings: which tokens count is decided by the data (completion_only_loss, assistant_only_loss).
    public static let parameters: [ParameterSpec] = []

    /// SFT trains on dataset batches.
    public var inputKind: ObjectiveInputKind { .batches }

    /// Nothing to read.
    public init(config: ComponentConfig) throws {}

    /// The loss, with `mean_token_accuracy` (greedy prediction equals the target) as TRL logs it.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { throw SpecError("sft: expects dataset batches, got rollouts") }
        let ids = batch.inputIDs
        guard ids.dtype == .int32, ids.rank == 2 else { throw SpecError("sft: input ids must be int32 [batch, seq], got \(ids.dtype) \(ids.shape)") }
        guard batch.lossMask.shape == ids.shape else {
            throw SpecError("sft: loss mask \(batch.lossMask.shape) does not match input ids \(ids.shape)")
        }
        let targets = Self.shiftedTargets(ids: ids, lossMask: batch.lossMask)
        if let llama = context.policy as? LlamaModel, let head = llama.denseLMHeadWeight {
            let hidden = try llama.hiddenStates(inputIDs: ids, attentionMask: batch.attentionMask)
            let fused = Tensor.linearCrossEntropy(hidden: hidden, weight: head, targets: targets, ignoreIndex: Self.ignoreIndex)
            return ObjectiveOutput(loss: fused.loss,
                                   metrics: ["mean_token_accuracy": Self.accuracy(predictions: fused.predictions.int32Values, targets: targets)])
        }
        let logits = try context.policy.logits(inputIDs: ids, attentionMask: batch.attentionMask)
        let loss = Tensor.crossEntropy(logits: logits, targets: targets, ignoreIndex: Self.ignoreIndex)
        return ObjectiveOutput(loss: loss, metrics: ["mean_token_accuracy": Self.accuracy(logits: logits, targets: targets)])
    }

    /// Hugging Face's label for "no loss here".
    static let ignoreIndex: Int32 = -100

    /// targets[b, t] = ids[b, t+1] where lossMask[b, t+1] is set, else −100; the last column is −100.
    static func shiftedTargets(ids: Tensor, lossMask: Tensor) -> Tensor {
        let b = ids.shape[0], t = ids.shape[1]
        let idv = ids.int32Values, mask = lossMask.scalars
        var out = [Int32](repeating: ignoreIndex, count: b * t)
        for r in 0..<b {
            for c in 0..<(t - 1) where mask[r * t + c + 1] != 0 { out[r * t + c] = idv[r * t + c + 1] }
        }
        return Tensor(shape: [b, t], int32: out)
    }

    /// Fraction of target positions whose highest logit is the target.
    static func accuracy(logits: Tensor, targets: Tensor) -> Double {
        accuracy(predictions: greedyPredictions(logits: logits, targets: targets), targets: targets)
    }

    /// Fraction of target positions whose prediction (`linearCrossEntropy`'s, or
    /// `greedyPredictions`) is the target.
    static func accuracy(predictions: [Int32], targets: Tensor) -> Double {
        var hit = 0, total = 0
        for (prediction, target) in zip(predictions, targets.int32Values) where target != ignoreIndex {
            total += 1
            if prediction == target { hit += 1 }
        }
        return total == 0 ? 0 : Double(hit) / Double(total)
    }

    /// The first index of the highest logit at each target position, −1 elsewhere.
    static func greedyPredictions(logits: Tensor, targets: Tensor) -> [Int32] {
        let x = logits.contiguous()
        let vocab = x.shape[x.rank - 1]
        return withExtendedLifetime(x) {
            let p = UnsafePointer(x.floatPointer)
            return targets.int32Values.enumerated().map { r, target in
                guard target != ignoreIndex else { return -1 }
                return Int32(SoftmaxRow.argmax(p + r * vocab, count: vocab))
            }
        }
    }
}
