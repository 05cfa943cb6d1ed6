import TemperCore

/// A `TrainableLanguageModel` that answers every call with the same logits tensor, so an
/// objective's loss and gradient can be worked out by hand. Make the tensor require grad to check
/// the gradient that reaches the logits.
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
}
