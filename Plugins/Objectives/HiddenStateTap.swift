import TemperCore

/// The policy as `CompletionLogProbs` calls it, keeping the hidden states of the trunk pass it
/// makes: PPO's value head reads those, so one pass scores the tokens and the values.
final class HiddenStateTap: TrainableLanguageModel {
    /// The model seen through the tap.
    let model: any TrainableLanguageModel
    /// The hidden states of the last pass, `[batch, seq, hidden]`; nil before any (a batch with no
    /// completion token makes none).
    private(set) var hidden: Tensor?

    /// A tap on `model`.
    init(_ model: any TrainableLanguageModel) { self.model = model }

    /// The model's logits, through `hiddenStates` so the pass is kept.
    func logits(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
        model.logits(hiddenStates: try hiddenStates(inputIDs: inputIDs, attentionMask: attentionMask))
    }

    /// The model's hidden states, kept.
    func hiddenStates(inputIDs: Tensor, attentionMask: Tensor?) throws -> Tensor {
        let h = try model.hiddenStates(inputIDs: inputIDs, attentionMask: attentionMask)
        hidden = h
        return h
    }

    /// The model's LM head.
    func logits(hiddenStates: Tensor) -> Tensor { model.logits(hiddenStates: hiddenStates) }
}
