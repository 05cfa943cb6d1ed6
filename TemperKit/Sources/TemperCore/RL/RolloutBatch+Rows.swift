extension RolloutBatch {
    /// Number of rows (completions).
    public var rowCount: Int { inputIDs.shape[0] }

    /// The rows `range` as a batch of their own: what the trainer hands the objective as one
    /// micro-batch of a generation batch. Every per-row field is cut, `extra` tensors whose first
    /// axis is the batch are cut too (others are kept whole), and `groupIndex` keeps its values, so
    /// advantages computed over the whole batch in `prepare` stay attached to their rows.
    public func rows(_ range: Range<Int>) -> RolloutBatch {
        let n = rowCount
        precondition(range.lowerBound >= 0 && range.upperBound <= n, "rows \(range) of a rollout batch of \(n)")
        func cut(_ t: Tensor) -> Tensor { Self.cutRows(t, range) }
        var extraRows: [String: Tensor] = [:]
        for (k, v) in extra { extraRows[k] = v.rank >= 1 && v.shape[0] == n ? cut(v) : v }
        return RolloutBatch(inputIDs: cut(inputIDs), attentionMask: cut(attentionMask), completionMask: cut(completionMask),
                            groupIndex: Array(groupIndex[range]), rewards: Array(rewards[range]),
                            rewardsPerFunction: rewardsPerFunction.mapValues { Array($0[range]) },
                            baselineRewards: baselineRewards.map { Array($0[range]) },
                            oldLogprobs: oldLogprobs.map(cut), referenceLogprobs: referenceLogprobs.map(cut),
                            truncated: truncated.isEmpty ? [] : Array(truncated[range]), extra: extraRows, temperature: temperature,
                            maxCompletionLength: maxCompletionLength)
    }

    /// Rows `range` of a float32 or int32 tensor whose first axis is the batch, as a new contiguous tensor.
    static func cutRows(_ t: Tensor, _ range: Range<Int>) -> Tensor {
        let rowSize = t.shape.dropFirst().reduce(1, *)
        var shape = t.shape
        shape[0] = range.count
        let lo = range.lowerBound * rowSize, hi = range.upperBound * rowSize
        if t.dtype == .int32 { return Tensor(shape: shape, int32: Array(t.int32Values[lo..<hi])) }
        return Tensor(shape: shape, scalars: Array(t.scalars[lo..<hi]))
    }
}
