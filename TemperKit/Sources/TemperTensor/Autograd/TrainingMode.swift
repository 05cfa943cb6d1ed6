/// Whether layers behave as in training (dropout active) or as in evaluation.
///
/// Separate from `GradMode`: an RL step computes log-probabilities with gradients on but must not
/// drop activations in the old-policy or reference passes, and a rollout samples with the policy's
/// full weights. Layers drop only when both recording and training are on (`isDropoutActive`).
public enum TrainingMode {
    nonisolated(unsafe) private static var evalDepth = 0

    /// True unless inside `withEvalMode`.
    @inline(__always) public static var isTraining: Bool { evalDepth == 0 }

    /// Dropout applies: training mode and autograd recording. Evaluation and generation (under
    /// `withNoGrad`) and passes inside `withEvalMode` see the full network.
    @inline(__always) public static var isDropoutActive: Bool { evalDepth == 0 && GradMode.isEnabled }

    /// Runs `body` in evaluation mode (nestable): gradients still flow if recording is on.
    public static func withEvalMode<R>(_ body: () throws -> R) rethrows -> R {
        evalDepth += 1
        defer { evalDepth -= 1 }
        return try body()
    }
}

/// Runs `body` in evaluation mode (no dropout), with gradients as they are.
public func withEvalMode<R>(_ body: () throws -> R) rethrows -> R {
    try TrainingMode.withEvalMode(body)
}
