/// Whether operations record an autograd graph.
///
/// Inference (generation, evaluation, search) runs inside `withNoGrad`, where no op allocates a
/// graph node or keeps its inputs alive: zero bookkeeping.
public enum GradMode {
    nonisolated(unsafe) private static var disabledDepth = 0

    /// True unless inside `withNoGrad`.
    @inline(__always) public static var isEnabled: Bool { disabledDepth == 0 }

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
