import TemperCore

/// __component__: negative log-likelihood of the next token on the positions `lossMask` marks
/// (supervised fine-tuning). Replace `loss` with your objective; return metrics by name.
public final class __Name__: Objective {
    public static let name = "__component__"
    public static let summary = "masked next-token negative log-likelihood (template: edit me)"
    public static let parameters: [ParameterSpec] = [
        .float("scale", default: 1, range: .greaterThan(0), doc: "factor on the loss"),
    ]

    let scale: Float
    public var inputKind: ObjectiveInputKind { .batches }

    public init(config: ComponentConfig) throws {
        scale = try config.float("scale")
    }

    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { throw SpecError("\(Self.name) trains on batches, not rollouts") }
        let length = batch.inputIDs.size(1)
        guard length >= 2 else { throw SpecError("\(Self.name): sequences need at least 2 tokens") }
        let logits = try context.policy.logits(inputIDs: batch.inputIDs, attentionMask: batch.attentionMask)
        // Position t predicts token t + 1.
        let logProbs = Tensor.gatherLogProbs(logits: logits.slice(1, 0..<(length - 1)),
                                             ids: batch.inputIDs.slice(1, 1..<length).contiguous())
        let mask = batch.lossMask.slice(1, 1..<length)
        let tokens = mask.sum().item
        guard tokens > 0 else { throw SpecError("\(Self.name): the batch has no loss tokens") }
        let loss = (logProbs * mask).sum() * (-scale / tokens)
        return ObjectiveOutput(loss: loss, metrics: ["loss_tokens": Double(tokens)])
    }
}
