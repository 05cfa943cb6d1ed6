import TemperCore

/// Token-level knowledge distillation (Hinton et al. 2015, METHODS.md FT-KD):
/// L = α · NLL + (1 − α) · τ² · KL(p_T^τ ‖ p_S^τ), averaged over the target tokens.
///
/// p^τ = softmax(logits / τ). The τ² factor keeps the soft term's gradient on the same scale as the
/// hard term's whatever the temperature. The teacher is the run's frozen reference model
/// (`ObjectiveContext.reference`, set from the recipe's `teacher_model`); it must share the
/// student's tokenizer, since the two distributions are compared token id by token id. The target
/// tokens are those SFT trains on (completion / assistant tokens, shifted by one).
public final class Distill: Objective {
    /// Registered name.
    public static let name = "distill"
    /// One-line summary for `temper plugins`.
    public static let summary = "token-level distillation: τ²·KL between a teacher's (teacher_model) and the student's softened distributions, mixed with NLL"
    /// τ, α and the direction of the KL.
    public static let parameters: [ParameterSpec] = [
        .float("temperature", default: 2, range: .greaterThan(0), aliases: ["tau"],
               doc: "softening temperature τ of both distributions; the KL term is scaled by τ²"),
        .float("alpha", default: 0, range: .closed(0, 1),
               doc: "weight of the hard-label NLL; the KL term gets 1 − alpha"),
        .choice("kl_direction", KLDirection.allCases.map(\.rawValue), default: KLDirection.forward.rawValue,
                doc: "forward: KL(teacher ‖ student), mass-covering (Hinton); reverse: KL(student ‖ teacher), mode-seeking (MiniLLM)"),
    ]

    /// Distillation trains on dataset batches.
    public var inputKind: ObjectiveInputKind { .batches }

    let temperature: Float
    let alpha: Float
    let direction: KLDirection

    /// Reads τ, α and the direction.
    public init(config: ComponentConfig) throws {
        temperature = try config.float("temperature")
        alpha = try config.float("alpha")
        direction = KLDirection(rawValue: try config.string("kl_direction"))!
    }

    /// The mixed loss, logging `kl` (mean KL at τ, unscaled), `nll` and `mean_token_accuracy`.
    public func loss(_ input: ObjectiveInput, context: ObjectiveContext) throws -> ObjectiveOutput {
        guard case .batch(let batch) = input else { throw SpecError("distill: expects dataset batches, got rollouts") }
        guard let teacher = context.reference else {
            throw SpecError("distill: no teacher model; set teacher_model in the recipe (--teacher_model PATH, a model with the student's tokenizer)")
        }
        let ids = batch.inputIDs
        guard ids.dtype == .int32, ids.rank == 2 else { throw SpecError("distill: input ids must be int32 [batch, seq], got \(ids.dtype) \(ids.shape)") }
        guard batch.lossMask.shape == ids.shape else {
            throw SpecError("distill: loss mask \(batch.lossMask.shape) does not match input ids \(ids.shape)")
        }
        let targets = SFT.shiftedTargets(ids: ids, lossMask: batch.lossMask)
        let studentLogits = try context.policy.logits(inputIDs: ids, attentionMask: batch.attentionMask)
        let teacherLogits = try withNoGrad { try teacher.logits(inputIDs: ids, attentionMask: batch.attentionMask) }
        guard teacherLogits.shape == studentLogits.shape else {
            throw SpecError("distill: teacher logits \(teacherLogits.shape) do not match the student's \(studentLogits.shape); " +
                            "teacher_model must use the student's tokenizer and vocabulary")
        }
        let rows = targets.int32Values.enumerated().compactMap { $0.element == SFT.ignoreIndex ? nil : $0.offset }
        let kd = TokenKL.loss(student: studentLogits, teacher: teacherLogits, rows: rows, temperature: temperature, direction: direction)
        // With alpha = 0 the NLL is only logged, so it stays out of the graph.
        let nll = alpha == 0 ? withNoGrad { Tensor.crossEntropy(logits: studentLogits, targets: targets, ignoreIndex: SFT.ignoreIndex) }
            : Tensor.crossEntropy(logits: studentLogits, targets: targets, ignoreIndex: SFT.ignoreIndex)
        let loss: Tensor
        switch alpha {
        case 0: loss = kd.loss
        case 1: loss = nll
        default: loss = kd.loss * (1 - alpha) + nll * alpha
        }
        return ObjectiveOutput(loss: loss, metrics: ["kl": kd.meanKL, "nll": Double(nll.item),
                                                     "mean_token_accuracy": SFT.accuracy(logits: studentLogits, targets: targets)])
    }
}
