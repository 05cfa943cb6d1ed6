import TemperCore

/// A `TrainableLanguageModel` that answers every call with the same logits tensor, so an
/// objective's loss and gradient can be worked out by hand. Make the tensor require grad to check
/// the gradient that reaches the logits. Its LM head is the identity: the hidden states are the
/// logits themselves, so the input of an objective's own head (a value or score head) is known too.
public final class FixedLogitsModel: TrainableLanguageModel {
    /// The logits `[batch, seq, vocab]` every call returns.
    public let logits: Tensor

    /// A model that always returns `logits`.
    public init(_ logits: Tensor) { self.logits = logits }

    /// The fixed logits; an error if they are not `[batch, seq, vocab]` for the batch and sequence
    /// length of `inputIDs` (an objective that builds its own batch must still match them).
    public func logits(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
        guard logits.rank == 3, Array(logits.shape.prefix(2)) == inputIDs.shape else {
            throw ModelInputError("FixedLogitsModel: logits \(logits.shape) do not cover input ids \(inputIDs.shape) (expected [batch, seq, vocab])")
        }
        return logits
    }

    /// The fixed logits, as hidden states (checked as `logits(inputIDs:attentionMask:)` does).
    public func hiddenStates(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
        try logits(inputIDs: inputIDs, attentionMask: attentionMask)
    }

    /// `hiddenStates` unchanged (an identity LM head).
    public func logits(hiddenStates: Tensor) -> Tensor { hiddenStates }
}
