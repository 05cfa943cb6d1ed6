import TemperCore

/// The reference model's sequence log-probabilities of a batch: precomputed ones when the batch
/// carries them (`precompute_ref_log_probs`), else one forward pass of the reference without gradients.
func referenceLogProbs(_ batch: TrainingBatch, context: ObjectiveContext, objective: String) throws -> Tensor {
    if let cached = batch.extra[BatchKeys.referenceLogProbs], cached.count == batch.inputIDs.shape[0] { return cached }
    guard let reference = context.reference else {
        throw TrainingError("\(objective): needs a reference model (the trainer sets one when the objective asks), but none was given")
    }
    return try withNoGrad { try SequenceLogProbs(model: reference, batch: batch).sums }
}

/// TRL's preference metrics from per-pair implicit rewards and policy log-probabilities:
/// `rewards/chosen`, `rewards/rejected`, `rewards/accuracies` (chosen reward > rejected),
/// `rewards/margins`, `logps/chosen`, `logps/rejected` (batch means).
func preferenceMetrics(chosenRewards: [Float], rejectedRewards: [Float], chosenLogps: [Float], rejectedLogps: [Float]) -> [String: Double] {
    func mean(_ x: [Float]) -> Double { x.isEmpty ? 0 : x.reduce(0.0) { $0 + Double($1) } / Double(x.count) }
    let wins = zip(chosenRewards, rejectedRewards).map { $0 > $1 ? Float(1) : 0 }
    return ["rewards/chosen": mean(chosenRewards), "rewards/rejected": mean(rejectedRewards), "rewards/accuracies": mean(wins),
            "rewards/margins": mean(zip(chosenRewards, rejectedRewards).map { $0 - $1 }),
            "logps/chosen": mean(chosenLogps), "logps/rejected": mean(rejectedLogps)]
}

extension Tensor {
    /// Rows `0..<n` and `n..<2n` of a `[2n]` tensor: the chosen and the rejected halves of a pair batch.
    func pairHalves(_ n: Int) -> (chosen: Tensor, rejected: Tensor) { (narrow(0, start: 0, length: n), narrow(0, start: n, length: n)) }
}
