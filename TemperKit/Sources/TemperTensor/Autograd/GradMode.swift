/// Whether operations record an autograd graph.
///
/// Inference (generation, evaluation, search) runs inside `withNoGrad`, where no op allocates a
/// graph node or keeps its inputs alive: zero bookkeeping.
public enum GradMode {
    nonisolated(unsafe) private static var disabledDepth = 0

    /// True unless inside `withNoGrad`.
    @inline(__always) public static var isEnabled: Bool { disabledDepth == 0 }

    /// Runs `body` with graph recording on, even inside `withNoGrad` (the backward pass runs with
    /// recording off; activation checkpointing re-records a segment from there).
    static func withGradEnabled<R>(_ body: () throws -> R) rethrows -> R {
        let saved = disabledDepth
        disabledDepth = 0
        defer { disabledDepth = saved }
        return try body()
    }

    /// Runs `body` with graph recording off (nestable).
    public static func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
        disabledDepth += 1
        defer { disabledDepth -= 1 }
        return try body()
    }
}

/// Runs `body` without recording an autograd graph.
public func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.withNoGrad(body)
}
