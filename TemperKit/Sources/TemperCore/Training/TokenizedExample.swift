/// One training example after tokenization: a sequence's token ids and which of them the loss is
/// computed on, and — for preference, unpaired and stepwise rows — what else the objective needs.
public struct TokenizedExample: Equatable {
    /// Token ids (of prompt + chosen, for a preference pair).
    public var ids: [Int32]
    /// true where the token is a prediction target (completion or assistant tokens). Always false
    /// at position 0, which no earlier token predicts, so the count of true entries is exactly the
    /// number of target tokens.
    public var lossMask: [Bool]
    /// How many leading tokens are the prompt (0 for rows without one).
    public var promptLength: Int = 0
    /// The rejected sequence (prompt + rejected) of a preference pair; nil for other rows.
    public var rejected: TokenizedSequence?
    /// Desirable (true) or undesirable (false), for an unpaired (KTO) row.
    public var label: Bool?
    /// The optional margin column of a preference row (reward models subtract it).
    public var margin: Float?
    /// Per-token step labels of a stepwise (PRM) row: 1 or 0 on the last token of each step, −100
    /// (Hugging Face's ignore index) elsewhere; as long as `ids`.
    public var stepLabels: [Int32]?
    /// Reference log-probabilities computed once before training (`precompute_ref_log_probs`,
    /// `ReferenceLogProbCache`): a pair's [chosen, rejected], an unpaired row's [completion, mismatched].
    public var referenceLogProbs: [Float]?
    /// An unpaired (KTO) row's KL row fixed before training — its prompt with another row's
    /// completion — when its reference log-probabilities are precomputed; nil: the collator pairs
    /// the rows of each drawn batch.
    public var mismatched: TokenizedSequence?
    /// The lengths of the examples a packed row holds, in order (`SequencePacker`); empty for a row
    /// that is one example. The collator turns them into segment numbers in the attention mask.
    public var packedLengths: [Int] = []

    /// An example from parts; `lossMask` must be as long as `ids`.
    public init(ids: [Int32], lossMask: [Bool]) {
        precondition(ids.count == lossMask.count, "TokenizedExample: \(ids.count) ids but \(lossMask.count) mask entries")
        self.ids = ids
        self.lossMask = lossMask
        if !self.lossMask.isEmpty { self.lossMask[0] = false }
    }

    /// Number of target tokens (of the chosen side, for a pair).
    public var targetCount: Int { lossMask.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// Whether every part the objective needs kept a target after truncation.
    public var hasTargets: Bool {
        if let rejected, rejected.targetCount == 0 { return false }
        return targetCount > 0
    }

    /// What kind of row this came from, which decides how a batch of them is laid out.
    public var shape: ExampleShape {
        if rejected != nil { return .pair }
        if label != nil { return .unpaired }
        if stepLabels != nil { return .stepwise }
        return .sequence
    }

    /// At most `maxLength` tokens of every sequence, the first (`keepStart`) or the last (`keepEnd`),
    /// as TRL's collators cut each sequence.
    public func truncated(to maxLength: Int, mode: TruncationMode) -> TokenizedExample {
        var out = self
        let cut = TokenizedSequence(ids: ids, lossMask: lossMask).truncated(to: maxLength, mode: mode)
        out.ids = cut.ids
        out.lossMask = cut.lossMask
        out.rejected = rejected?.truncated(to: maxLength, mode: mode)
        if let labels = stepLabels, labels.count > maxLength {
            out.stepLabels = mode == .keepStart ? Array(labels.prefix(maxLength)) : Array(labels.suffix(maxLength))
        }
        if ids.count > maxLength, mode == .keepEnd { out.promptLength = max(0, promptLength - (ids.count - maxLength)) }
        out.promptLength = min(out.promptLength, out.ids.count)
        return out
    }
}

/// A token sequence and its loss mask: one side of a preference pair.
public struct TokenizedSequence: Equatable {
    /// Token ids (prompt + completion).
    public var ids: [Int32]
    /// true on target tokens; false at position 0.
    public var lossMask: [Bool]

    /// A sequence from parts; `lossMask` must be as long as `ids`.
    public init(ids: [Int32], lossMask: [Bool]) {
        precondition(ids.count == lossMask.count, "TokenizedSequence: \(ids.count) ids but \(lossMask.count) mask entries")
        self.ids = ids
        self.lossMask = lossMask
        if !self.lossMask.isEmpty { self.lossMask[0] = false }
    }

    /// Number of target tokens.
    public var targetCount: Int { lossMask.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// At most `maxLength` tokens, the first or the last.
    public func truncated(to maxLength: Int, mode: TruncationMode) -> TokenizedSequence {
        guard ids.count > maxLength else { return self }
        return mode == .keepStart ? TokenizedSequence(ids: Array(ids.prefix(maxLength)), lossMask: Array(lossMask.prefix(maxLength)))
            : TokenizedSequence(ids: Array(ids.suffix(maxLength)), lossMask: Array(lossMask.suffix(maxLength)))
    }
}

/// Which end of a too-long sequence is kept (TRL's `truncation_mode`).
public enum TruncationMode: String, Sendable, CaseIterable {
    /// Keep the first tokens (TRL 1.x's default).
    case keepStart = "keep_start"
    /// Keep the last tokens.
    case keepEnd = "keep_end"
}

/// The kinds of example, each collated its own way (`BatchCollator`).
public enum ExampleShape: String, Sendable {
    /// One sequence (text, conversation, prompt + completion).
    case sequence
    /// A preference pair: chosen and rejected.
    case pair
    /// An unpaired completion with a desirable / undesirable label (KTO).
    case unpaired
    /// A solution in labelled steps (process reward models).
    case stepwise
}
