/// What a process reward model's step verdicts are worth on labelled chains: how many steps it
/// classifies right, and whether the first step it flags is the chain's first wrong step.
///
/// Step labels follow PRM800K / Math-Shepherd: true while the chain so far is right, false from the
/// first wrong step on, so a row's first false label is its first wrong step. The PRM flags a step
/// when P(correct) ≤ 1/2, i.e. logit(wrong) ≥ logit(correct). The chain figures are fractions of
/// the batch's labelled rows; the trainer averages eval batches weighted by all their rows, so the
/// average is the whole-set figure when every row carries labels (as `temper data make --steps`
/// writes them), and step accuracy only when every chain has the same number of steps.
struct PRMStepMetrics {
    /// Labelled step ends in the batch.
    var steps = 0
    /// Steps whose verdict equals the label.
    var stepHits = 0
    /// Rows (chains) with at least one labelled step.
    var rows = 0
    /// Rows whose first flagged step is the first wrong step ("none" for a chain with none).
    var firstWrongHits = 0
    /// Rows that have a wrong step.
    var wrongRows = 0
    /// Rows that have a wrong step and whose first flagged step is it.
    var wrongRowHits = 0

    /// Reads the verdicts off `logits` (`[batch, seq, 2]`, row-major) at the positions where
    /// `targets` (`[batch, seq]`) holds a label (0 or 1; −100 elsewhere).
    init(logits: [Float], targets: [Int32], sequenceLength: Int) {
        let rowCount = sequenceLength == 0 ? 0 : targets.count / sequenceLength
        for r in 0..<rowCount {
            var step = 0, firstWrong: Int?, firstFlagged: Int?
            for t in r * sequenceLength..<(r + 1) * sequenceLength where targets[t] != -100 {
                let flagged = logits[2 * t] >= logits[2 * t + 1]
                if (flagged ? 0 : 1) == targets[t] { stepHits += 1 }
                if targets[t] == 0, firstWrong == nil { firstWrong = step }
                if flagged, firstFlagged == nil { firstFlagged = step }
                step += 1
            }
            guard step > 0 else { continue }
            steps += step
            rows += 1
            if firstFlagged == firstWrong { firstWrongHits += 1 }
            if firstWrong != nil {
                wrongRows += 1
                if firstFlagged == firstWrong { wrongRowHits += 1 }
            }
        }
    }

    /// `accuracy` (steps right / steps), `steps`, and per-row fractions: `first_wrong_step_accuracy`,
    /// `wrong_chains` and `wrong_chains_first_step_found` — their ratio is the accuracy of locating
    /// the first wrong step among the chains that have one.
    var values: [String: Double] {
        func fraction(_ n: Int, _ d: Int) -> Double { d == 0 ? 0 : Double(n) / Double(d) }
        return ["accuracy": fraction(stepHits, steps), "steps": Double(steps),
                "first_wrong_step_accuracy": fraction(firstWrongHits, rows),
                "wrong_chains": fraction(wrongRows, rows),
                "wrong_chains_first_step_found": fraction(wrongRowHits, rows)]
    }
}
